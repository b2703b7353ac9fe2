"""Budget monitors (DESIGN.md §6): the student support budget closes itself when spent; admins are
told at 80 % and at closing, and when a budget code reaches 80 % of its limit or the limit."""

from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from fees import support
from fees.budgets import position_of, with_positions
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


def _monitored_codes():
    """The codes a monitor looks at: this fiscal year's active codes with a limit."""
    return BudgetCode.objects.filter(~Q(limit=None), fiscal_year=current_fiscal_year(), active=True).select_related(
        "responsible"
    )


def check_budget_codes(code_ids: Iterable[int] | None = None) -> list[tuple[str, str]]:
    """Alert once per code at 80 % of its limit and once when nothing is left.

    `code_ids`: only these codes (what a change touched), read with their positions in one query.
    None: every monitored code, `JOB_BATCH_SIZE` at a time (one query a batch)."""
    if code_ids is not None:
        return _alert(list(with_positions(_monitored_codes().filter(pk__in=list(code_ids)))))
    alerts, after = [], 0
    while after is not None:
        found, after = check_budget_code_batch(after=after)
        alerts += found
    return alerts


def check_budget_code_batch(*, after: int = 0, batch: int | None = None) -> tuple[list[tuple[str, str]], int | None]:
    """The next `batch` monitored codes after the code id `after`, in id order, in one query.
    Returns the alerts and the id to continue after (None when this was the last batch)."""
    batch = batch or settings.JOB_BATCH_SIZE
    codes = list(with_positions(_monitored_codes().filter(pk__gt=after)).order_by("pk")[:batch])
    return _alert(codes), (codes[-1].pk if len(codes) == batch else None)


def _alert(codes: list[BudgetCode]) -> list[tuple[str, str]]:
    alerts = []
    recipients = None
    for code in codes:
        position = position_of(code)
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
