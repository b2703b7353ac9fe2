"""Patron request forms (DESIGN.md §2): borrow a book (現物貸借) or order a copy (文献複写).

The forms check the shape of what was typed (identifiers, numbers, dates); the library's rules
(§3) are checked by `ill.intake`, which every entry point calls.
"""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Div, Fieldset, Layout, Row
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import bounds
from core.forms import list_model_choices
from core.text import format_yen
from fees.budgets import budget_codes_for, budget_positions
from ill import identifiers, rules
from ill.models import Request
from patrons.models import Branch

IDENTIFIER_FIELDS = {"isbn": "isbn", "issn": "issn", "ncid": "ncid", "doi": "doi"}

COMMON_FIELDS = [
    "material_type",
    "title",
    "author",
    "publisher",
    "pub_year",
    "edition",
    "isbn",
    "issn",
    "ncid",
    "doi",
    "note",
    "pickup_branch",
    "not_needed_after",
    "max_cost",
    "scope",
    "expense_type",
    "budget_code",
    "cannot_use_public_expense",
    "comments",
]
LOAN_FIELDS = COMMON_FIELDS + ["accept_other_edition", "cancel_if_in_library_only"]
COPY_FIELDS = COMMON_FIELDS + [
    "article_title",
    "article_author",
    "volume",
    "issue",
    "pages",
    "page_count",
    "colour_pages",
    "paper_size",
    "delivery_method",
    "purpose",
    "periodical_frequency",
    "issue_date",
    "work_total_pages",
    "copyright_accepted",
]

LOAN_MATERIALS = [
    Request.MaterialType.BOOK,
    Request.MaterialType.THESIS,
    Request.MaterialType.PROCEEDINGS,
    Request.MaterialType.AUDIOVISUAL,
    Request.MaterialType.SERIAL,
    Request.MaterialType.OTHER,
]
COPY_MATERIALS = [
    Request.MaterialType.ARTICLE,
    Request.MaterialType.CHAPTER,
    Request.MaterialType.PROCEEDINGS,
    Request.MaterialType.THESIS,
    Request.MaterialType.OTHER,
]


def _budget_label(code, position) -> str:
    """The code, its name and what is left on it, so the patron can choose."""
    left = position.left if position is not None else None
    if left is None:
        return f"{code.code} {code.name}"
    return str(
        _("%(code)s %(name)s (%(left)s left)") % {"code": code.code, "name": code.name, "left": format_yen(left)}
    )


class RequestForm(forms.ModelForm):
    """What loan and copy forms share: identifiers, pick-up, wishes, payment."""

    kind: str = ""
    materials: list = []

    class Meta:
        model = Request
        fields = COMMON_FIELDS
        widgets = {
            "not_needed_after": forms.DateInput(attrs={"type": "date"}),
            "issue_date": forms.DateInput(attrs={"type": "date"}),
            "note": forms.Textarea(attrs={"rows": 2}),
            "comments": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, patron, **kwargs):
        super().__init__(*args, **kwargs)
        self.patron = patron
        self.fields["material_type"].choices = [(m.value, m.label) for m in self.materials]
        self.fields["material_type"].initial = self.materials[0].value
        self.fields["pickup_branch"].queryset = Branch.objects.filter(active=True)
        self.fields["pickup_branch"].initial = patron.home_branch_id
        self.fields["pickup_branch"].empty_label = None
        codes = budget_codes_for(patron)
        self.fields["budget_code"].queryset = codes
        positions = budget_positions(list(codes))
        self.fields["budget_code"].label_from_instance = lambda code: _budget_label(code, positions.get(code.pk))
        self.fields["budget_code"].help_text = _(
            "Codes registered with the library for this fiscal year that you may charge."
        )
        # Every number and date within what the library's work allows (core.bounds), with a
        # message naming the range: the model's bounds, and for dates a window around today.
        bounds.limit_from_model(self)
        bounds.limit(self.fields["pub_year"], bounds.MIN_YEAR, timezone.localdate().year + 1)
        bounds.limit(self.fields["not_needed_after"], bounds.EARLIEST_DESK_DATE, bounds.NOT_NEEDED_AHEAD)
        if "issue_date" in self.fields:
            bounds.limit(self.fields["issue_date"], bounds.EARLIEST_ISSUE, bounds.ISSUE_AHEAD)
        self.fields["pub_year"].widget.attrs.update({"inputmode": "numeric", "placeholder": "2024"})
        self.fields["max_cost"].help_text = _("Optional. If the charge is higher, we ask you before going ahead.")
        self.fields["max_cost"].widget.attrs.update({"inputmode": "numeric", "min": 0})
        self.fields["not_needed_after"].help_text = _("Optional. We cancel the request if it cannot arrive by then.")
        self.fields["cannot_use_public_expense"].help_text = _(
            "Students in a laboratory or in their 4th year and above: tick this only if your supervisor confirmed "
            "you cannot use a public expense; the library's student support then pays."
        )
        for name in IDENTIFIER_FIELDS:
            field = self.fields[name]
            field.max_length = None
            field.validators = []
            field.widget.attrs.pop("maxlength", None)
            field.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        self.fields["isbn"].widget.attrs["inputmode"] = "numeric"
        self.fields["isbn"].help_text = _("10 or 13 digits; hyphens and full-width digits are fine.")
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.layout = self.layout()
        list_model_choices(self)

    # identifiers: normalised before they are stored and compared (§2)
    def _identifier(self, name):
        value = self.cleaned_data.get(name) or ""
        if not value.strip():
            return ""
        try:
            return identifiers.normalize_identifier(IDENTIFIER_FIELDS[name], value)
        except identifiers.IdentifierError as exc:
            raise forms.ValidationError(str(exc), code=f"{name}_{exc.code}") from exc

    def clean_isbn(self):
        return self._identifier("isbn")

    def clean_issn(self):
        return self._identifier("issn")

    def clean_ncid(self):
        return self._identifier("ncid")

    def clean_doi(self):
        return self._identifier("doi")

    def clean_not_needed_after(self):
        day = self.cleaned_data.get("not_needed_after")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(_("This date has already passed."))
        return day

    def clean(self):
        data = super().clean()
        expense = data.get("expense_type")
        if expense in (Request.ExpenseType.PUBLIC, Request.ExpenseType.GRANT):
            code = data.get("budget_code")
            if code is None:
                self.add_error("budget_code", _("Choose the budget code to charge for public or grant expense."))
            elif rules.grant_code_mismatch(expense, code):
                self.add_error("budget_code", rules.BUDGET_NOT_A_GRANT % {"code": code.code})
        else:
            data["budget_code"] = None
        return data

    def build(self) -> Request:
        """The unsaved request, ready for the intake service."""
        request = self.save(commit=False)
        request.kind = self.kind
        request.patron = self.patron
        return request

    def wishes_and_payment(self):
        return [
            Fieldset(
                _("Pick-up and wishes"),
                Row(Column("pickup_branch", css_class="col-md-6"), Column("not_needed_after", css_class="col-md-6")),
                Row(Column("scope", css_class="col-md-6"), Column("max_cost", css_class="col-md-6")),
                *self.extra_wishes(),
            ),
            Fieldset(
                _("Payment"),
                Row(Column("expense_type", css_class="col-md-6"), Column("budget_code", css_class="col-md-6")),
                "cannot_use_public_expense",
                "comments",
            ),
        ]

    def extra_wishes(self):
        return []


class LoanRequestForm(RequestForm):
    """Borrow a book from another library (現物貸借)."""

    kind = Request.Kind.LOAN
    materials = LOAN_MATERIALS

    class Meta(RequestForm.Meta):
        fields = LOAN_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].label = _("Title")
        self.fields["title"].help_text = ""

    def extra_wishes(self):
        return ["accept_other_edition", "cancel_if_in_library_only"]

    def layout(self):
        return Layout(
            Fieldset(
                _("The book"),
                "title",
                Row(Column("author", css_class="col-md-7"), Column("material_type", css_class="col-md-5")),
                Row(
                    Column("publisher", css_class="col-md-5"),
                    Column("pub_year", css_class="col-md-3"),
                    Column("edition", css_class="col-md-4"),
                ),
                Row(Column("isbn", css_class="col-md-6"), Column("ncid", css_class="col-md-6")),
                Div("issn", "doi", css_class="d-none"),
                "note",
            ),
            *self.wishes_and_payment(),
        )


class CopyRequestForm(RequestForm):
    """A copy of an article or a chapter (文献複写)."""

    kind = Request.Kind.COPY
    materials = COPY_MATERIALS

    class Meta(RequestForm.Meta):
        fields = COPY_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].label = _("Journal or book title")
        self.fields["title"].help_text = _("The journal (for an article) or the book (for a chapter).")
        self.fields["article_title"].required = True
        self.fields["author"].label = _("Author or editor of the book")
        self.fields["page_count"].required = True
        self.fields["page_count"].help_text = _("Pages to copy, e.g. 14 for pages 123–136.")
        self.fields["work_total_pages"].help_text = _(
            "For a book: its total number of pages (copyright allows less than half)."
        )
        self.fields["issue_date"].help_text = _("For a periodical: the date of the issue.")
        self.fields["copyright_accepted"].label = _(
            "I take responsibility for copyright: the copy is for my own research or study, "
            "and I request one copy only."
        )
        self.fields["purpose"].choices = Request.Purpose.choices
        # Nothing preselected when a link said it is from a journal (ISSN) but not how often it
        # appears: "not a periodical" would quietly leave out the latest-issue rule.
        self.fields["periodical_frequency"].choices = [
            ("", _("Choose how often it appears")),
            *Request.Frequency.choices,
        ]
        # Left unchosen, it is asked for only where the latest-issue rule needs it (clean below).
        self.fields["periodical_frequency"].required = False

    def layout(self):
        return Layout(
            Fieldset(
                _("The article or chapter"),
                "article_title",
                Row(Column("article_author", css_class="col-md-7"), Column("material_type", css_class="col-md-5")),
                "title",
                Row(
                    Column("volume", css_class="col-4 col-md-2"),
                    Column("issue", css_class="col-4 col-md-2"),
                    Column("pages", css_class="col-4 col-md-3"),
                    Column("pub_year", css_class="col-md-2"),
                    Column("issue_date", css_class="col-md-3"),
                ),
                Row(
                    Column("issn", css_class="col-md-4"),
                    Column("isbn", css_class="col-md-4"),
                    Column("doi", css_class="col-md-4"),
                ),
                Row(Column("author", css_class="col-md-6"), Column("publisher", css_class="col-md-6")),
                Div("ncid", "edition", css_class="d-none"),
                "note",
            ),
            Fieldset(
                _("The copy"),
                Row(
                    Column("page_count", css_class="col-6 col-md-3"),
                    Column("colour_pages", css_class="col-6 col-md-3"),
                    Column("paper_size", css_class="col-6 col-md-3"),
                    Column("delivery_method", css_class="col-6 col-md-3"),
                ),
                Row(
                    Column("periodical_frequency", css_class="col-md-6"),
                    Column("work_total_pages", css_class="col-md-6"),
                ),
                "purpose",
                "copyright_accepted",
            ),
            *self.wishes_and_payment(),
        )

    def clean(self):
        data = super().clean()
        pages, colour = data.get("page_count"), data.get("colour_pages") or 0
        if pages is not None and colour > pages:
            self.add_error("colour_pages", _("Colour pages cannot be more than the pages to copy."))
        total = data.get("work_total_pages")
        if total is not None and pages is not None and pages > total:
            self.add_error("work_total_pages", _("The work cannot have fewer pages than you want copied."))
        material, frequency = data.get("material_type"), data.get("periodical_frequency")
        missing = rules.missing_issue_facts(material, frequency, data.get("issue_date"), data.get("pub_year"))
        if missing == "periodical_frequency":
            self.add_error("periodical_frequency", rules.FREQUENCY_NEEDED)
        elif missing == "issue_date":
            self.add_error("issue_date", rules.ISSUE_DATE_NEEDED)
        if not frequency and "periodical_frequency" not in self.errors:
            data["periodical_frequency"] = Request.Frequency.NOT_PERIODICAL  # not needed: an old issue, a book
        if material and rules.needs_total_pages(material, frequency, total) and "work_total_pages" not in self.errors:
            self.add_error("work_total_pages", rules.TOTAL_PAGES_NEEDED)
        return data

    def build(self) -> Request:
        request = super().build()
        if request.material_type == Request.MaterialType.ARTICLE:
            request.journal_title = request.title
        return request


FORMS = {Request.Kind.LOAN: LoanRequestForm, Request.Kind.COPY: CopyRequestForm}


class ExtensionForm(forms.Form):
    reason = forms.CharField(label=_("Why do you need more time? (optional)"), max_length=300, required=False)
