"""Budget monitors (DESIGN.md §6): the student support budget closes itself when spent; admins are
told at 80 % and at closing, and when a budget code reaches 80 % of its limit or the limit."""

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from fees import support
from fees.budgets import budget_positions
from fees.models import BudgetCode, current_fiscal_year
from notifications.services import notify_users
from patrons.selectors import admin_recipients


def _admin_url(name: str, *args) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


def check_support_budget() -> str | None:
    budget = support.current_budget()
    if budget is None:
        return None
    level = support.check_budget(budget)
    if level is None:
        return None
    spent = support.spent(budget)
    notify_users(
        admin_recipients(),
        template="fees/email",
        kind="budget_alert",
        key=f"budget:support:{budget.pk}:{level}",
        context={
            "scope": "support",
            "level": level,
            "name": f"FY{budget.fiscal_year}",
            "spent": spent,
            "total": budget.total,
            "percent": spent * 100 // budget.total if budget.total else 100,
            "responsible": "",
            "admin_url": _admin_url("admin:fees_supportbudget_change", budget.pk),
        },
    )
    return level


def check_budget_codes() -> list[tuple[str, str]]:
    """Alert once per code at 80 % of its limit and once when nothing is left."""
    alerts = []
    codes = list(
        BudgetCode.objects.filter(~Q(limit=None), fiscal_year=current_fiscal_year(), active=True).select_related(
            "responsible"
        )
    )
    positions = budget_positions(codes)  # one query for all codes, not one per code
    recipients = None
    for code in codes:
        position = positions[code.pk]
        used = position.used
        if not code.limit:
            continue
        level = "closed" if position.left <= 0 else "80" if used * 100 >= code.limit * 80 else None
        if level is None:
            continue
        recipients = admin_recipients() if recipients is None else recipients
        sent = notify_users(
            recipients,
            template="fees/email",
            kind="budget_alert",
            key=f"budget:code:{code.pk}:{level}",
            context={
                "scope": "code",
                "level": level,
                "name": f"{code.code} {code.name}",
                "spent": used,
                "total": code.limit,
                "percent": used * 100 // code.limit,
                "responsible": code.responsible.full_name,
                "admin_url": _admin_url("admin:fees_budgetcode_change", code.pk),
            },
        )
        if sent:
            alerts.append((code.code, level))
    return alerts
