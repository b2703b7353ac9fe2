"""Celery entry points for money: the budget monitors, run by beat and after each shipment."""

from celery import shared_task

from fees import alerts


@shared_task(ignore_result=True)
def monitor_budgets_task():
    return {"support": alerts.check_support_budget(), "codes": alerts.check_budget_codes()}
