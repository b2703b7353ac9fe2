"""Reads about money: which budget codes a patron may charge."""

from django.db.models import Q

from fees.models import BudgetCode, current_fiscal_year


def budget_codes_for(patron, fiscal_year: int | None = None):
    """Codes this patron may charge: registered for this fiscal year, active, usable for ILL, and
    the patron is a member of the code or of the laboratory it belongs to (DESIGN.md §3.6)."""
    fiscal_year = fiscal_year or current_fiscal_year()
    membership = Q(members=patron)
    if patron.laboratory_id:
        membership |= Q(laboratory_id=patron.laboratory_id)
    return (
        BudgetCode.objects.filter(membership, fiscal_year=fiscal_year, active=True, usable_for_ill=True)
        .distinct()
        .order_by("code")
    )
