"""What a number or a date typed into the system may be (issue 12): the domain's bounds, kept well
inside the database types, so that nothing typed can overflow a column or a date computed from it.

Each bound is used three times: by the form field (a message naming the range, in the user's
language), by the model field's validators (the admin's forms), and as a database CHECK constraint
named `<model>_<field>_range`. The money bounds are chosen so that whatever is computed from the
typed values stays representable (see `fees.calculator.MAX_TOTAL`):

- a copy request is at most 10,000 pages (a work's total pages at most 100,000);
- a yen amount anyone types or the system stores is at most ¥10,000,000 (an ILL charge is a few
  thousand yen; a shipment of 200 charges at the limit, ¥2,000,000,000, still fits PostgreSQL's
  `integer`); a page price at most ¥10,000, a per-item or per-shipment fee at most ¥1,000,000;
- a budget (a code's limit, the student support budget) at most ¥1,000,000,000;
- years 1400 (printed books) to next year in forms, 1400–2200 in the database; dates typed at the
  desk within a few years of today in forms, within 2000–2200 in the database (history stays valid).
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import DEFAULT_DB_ALIAS
from django.db.models import CheckConstraint, Q
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

MAX_PAGES = 10_000
MAX_WORK_PAGES = 100_000
MAX_YEN = 10_000_000
MAX_PAGE_PRICE = 10_000
MAX_FEE = 1_000_000
MAX_BUDGET = 1_000_000_000
MIN_YEAR = 1400
MAX_YEAR = 2200  # the database's bound; forms allow up to next year where the year is a publication's
MIN_FISCAL_YEAR = 2000
MAX_LOAN_DAYS = 365
INT32_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1  # a primary key (DEFAULT_AUTO_FIELD is BigAutoField)

# Dates in the database: a publication's from 1400, the desk's (due dates, wishes) from 2000.
EARLIEST_ISSUE = datetime.date(MIN_YEAR, 1, 1)
EARLIEST_DESK_DATE = datetime.date(2000, 1, 1)
LATEST_DATE = datetime.date(MAX_YEAR, 12, 31)

# Dates in forms, relative to today.
DUE_DATE_AHEAD = datetime.timedelta(days=730)  # a lender's due date: at most two years ahead
NOT_NEEDED_AHEAD = datetime.timedelta(days=5 * 365)  # "not needed after": at most five years ahead
ISSUE_AHEAD = datetime.timedelta(days=366)  # an issue dated at most a year ahead (announced issues)
FILTER_AHEAD = datetime.timedelta(days=366)

NUMBER_RANGE = _("Enter a whole number from %(low)s to %(high)s.")
DATE_RANGE = _("Enter a date from %(low)s to %(high)s.")


def _number(value: int) -> str:
    """10,000 and up grouped by thousands; years and small numbers as they are typed (1400, 2027)."""
    return number_format(value, force_grouping=abs(value) >= 10_000)


@deconstructible
class InRange:
    """A whole number from `low` to `high` (both included), with a message that names the range."""

    code = "out_of_range"

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high

    def __call__(self, value):
        if value is None:
            return
        if not (self.low <= value <= self.high):
            raise ValidationError(
                NUMBER_RANGE, code=self.code, params={"low": _number(self.low), "high": _number(self.high)}
            )

    def __eq__(self, other):
        return isinstance(other, InRange) and (self.low, self.high) == (other.low, other.high)

    def __hash__(self):
        return hash((self.low, self.high))


@deconstructible
class DateInRange:
    """A date from `low` to `high`; either may be a `timedelta` from today (forms only: a model's
    validators and CHECKs use fixed dates, so that old rows stay valid)."""

    code = "date_out_of_range"

    def __init__(self, low, high):
        self.low, self.high = low, high

    def bounds(self) -> tuple[datetime.date, datetime.date]:
        today = timezone.localdate()
        low = today + self.low if isinstance(self.low, datetime.timedelta) else self.low
        high = today + self.high if isinstance(self.high, datetime.timedelta) else self.high
        return low, high

    def __call__(self, value):
        if value is None:
            return
        if isinstance(value, datetime.datetime):
            value = value.date()
        low, high = self.bounds()
        if not (low <= value <= high):
            raise ValidationError(DATE_RANGE, code=self.code, params={"low": low.isoformat(), "high": high.isoformat()})

    def __eq__(self, other):
        return isinstance(other, DateInRange) and (self.low, self.high) == (other.low, other.high)

    def __hash__(self):
        return hash((self.low, self.high))


@dataclass(frozen=True)
class Bound:
    """One field's range, for its validator, its form widget and its CHECK constraint."""

    low: int | datetime.date
    high: int | datetime.date

    def validator(self):
        if isinstance(self.low, datetime.date):
            return DateInRange(self.low, self.high)
        return InRange(self.low, self.high)

    def check(self, field: str) -> Q:
        """The CHECK's condition; NULL passes (a CHECK is only false when the condition is)."""
        return Q(**{f"{field}__gte": self.low, f"{field}__lte": self.high})

    def constraint(self, field: str, name: str) -> "RangeCheck":
        """The database CHECK `name` of `field`'s range (see RangeCheck)."""
        return RangeCheck(condition=self.check(field), name=name, field=field, bound=self)


class PythonCheck(CheckConstraint):
    """A database CHECK on one field that model validation checks in Python, without a query.

    Django validates a CheckConstraint in `full_clean()` by asking the database
    (`SELECT 1 WHERE <condition>`): one round trip per constraint, eleven for a copy request's
    confirm step. These conditions are plain comparisons, so they are checked here. Each
    deconstructs as a plain CheckConstraint: the migrations hold the same CHECK either way.
    A subclass says what it keeps besides the field (`extra`) and when a value passes (`passes`)."""

    extra: tuple[str, ...] = ()

    def __init__(self, *args, field: str, **kwargs):
        own = {name: kwargs.pop(name) for name in self.extra}
        super().__init__(*args, **kwargs)
        self.field = field
        for name, value in own.items():
            setattr(self, name, value)

    def passes(self, value) -> bool:
        raise NotImplementedError

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        if exclude and self.field in exclude:
            return
        value = getattr(instance, model._meta.get_field(self.field).attname)
        if not self.passes(value):
            raise ValidationError(self.get_violation_error_message(), code=self.violation_error_code)

    def deconstruct(self):
        _path, args, kwargs = super().deconstruct()
        return "django.db.models.CheckConstraint", args, kwargs

    def clone(self):
        _path, args, kwargs = super().deconstruct()
        return self.__class__(*args, field=self.field, **{name: getattr(self, name) for name in self.extra}, **kwargs)


class RangeCheck(PythonCheck):
    """A field's range (a Bound) as a database CHECK, validated in Python (see PythonCheck)."""

    extra = ("bound",)

    def passes(self, value) -> bool:
        return value is None or self.bound.low <= value <= self.bound.high


PAGES = Bound(1, MAX_PAGES)
COLOUR_PAGES = Bound(0, MAX_PAGES)
WORK_PAGES = Bound(1, MAX_WORK_PAGES)
YEN = Bound(0, MAX_YEN)
SIGNED_YEN = Bound(-MAX_YEN, MAX_YEN)
PAGE_PRICE = Bound(0, MAX_PAGE_PRICE)
FEE = Bound(0, MAX_FEE)
BUDGET = Bound(0, MAX_BUDGET)
PUB_YEAR = Bound(MIN_YEAR, MAX_YEAR)
FISCAL_YEAR = Bound(MIN_FISCAL_YEAR, MAX_YEAR)
LOAN_DAYS = Bound(1, MAX_LOAN_DAYS)
ISSUE_DATE = Bound(EARLIEST_ISSUE, LATEST_DATE)
DESK_DATE = Bound(EARLIEST_DESK_DATE, LATEST_DATE)
STUDENT_CAP = Bound(0, 1000)  # supported requests per student and year
LINE_POSITION = Bound(1, 1000)  # a charge has a dozen lines at most
CHARGE_QUANTITY = Bound(0, MAX_PAGES)  # pages, or 1 for a fee


def limit(field, low, high):
    """Bound a form field: its validator (a message naming the range) and, for numbers, the
    widget's min and max (the browser's check; the server's is the validator). `low` and `high` are
    numbers, dates, or for dates a `timedelta` from today."""
    is_date = isinstance(low, (datetime.date, datetime.timedelta)) or isinstance(
        high, (datetime.date, datetime.timedelta)
    )
    validator = DateInRange(low, high) if is_date else InRange(low, high)
    field.validators = [v for v in field.validators if not isinstance(v, (InRange, DateInRange))] + [validator]
    if not is_date:
        field.min_value, field.max_value = low, high
        field.widget.attrs.update({"min": low, "max": high})
        # Django's own min/max validators would only repeat the message in other words.
        field.validators = [
            v for v in field.validators if v.__class__.__name__ not in ("MinValueValidator", "MaxValueValidator")
        ]
    return field


def limit_from_model(form) -> None:
    """Give a ModelForm's fields the bounds of their model fields (InRange / DateInRange
    validators), so the form refuses out-of-range values before the model is even built."""
    model = form._meta.model
    for name, field in form.fields.items():
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:  # a form-only field
            continue
        for validator in model_field.validators:
            if isinstance(validator, (InRange, DateInRange)):
                limit(field, validator.low, validator.high)
