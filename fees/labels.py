"""Translated names of the calculator's line codes (the calculator itself stays free of Django)."""

from django.utils.translation import gettext_lazy as _

LINE_LABELS = {
    "copy_mono": _("Copies, monochrome"),
    "copy_colour": _("Copies, colour"),
    "postage": _("Postage"),
    "fax_per_page": _("FAX / electronic delivery, per page"),
    "fax_fixed": _("FAX / electronic delivery"),
    "handling": _("Handling fee"),
    "bank_transfer": _("Bank transfer fee"),
    "express": _("Express surcharge"),
    "tax": _("Consumption tax"),
    "overseas_flat": _("Overseas supply fee"),
    "overseas_fax": _("Overseas FAX surcharge"),
    "loan_round_trip": _("Loan postage, round trip"),
    "loan_return_only": _("Loan postage, return"),
    "loan_express": _("Loan express surcharge"),
}


def line_label(code: str) -> str:
    return LINE_LABELS.get(code, code)
