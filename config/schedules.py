"""Every Celery beat schedule, in one place (times are Asia/Tokyo)."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "notifications.tasks.sweep_outbox_task", "schedule": 60.0},
    "budget-monitors": {"task": "fees.tasks.monitor_budgets_task", "schedule": crontab(minute="*/15")},
    "staff-digest": {"task": "ill.tasks.staff_digest_task", "schedule": crontab(hour=8, minute=0)},
    "due-soon": {"task": "ill.tasks.due_soon_task", "schedule": crontab(hour=9, minute=0)},
    "overdue": {"task": "ill.tasks.overdue_task", "schedule": crontab(hour=9, minute=5)},
    "not-collected": {"task": "ill.tasks.not_collected_task", "schedule": crontab(hour=9, minute=10)},
    "no-longer-needed": {"task": "ill.tasks.close_no_longer_needed_task", "schedule": crontab(hour=7, minute=0)},
    # Retention (ill.retention, README "Operations"): at night, before the day's jobs.
    "clear-sessions": {"task": "ill.tasks.clear_sessions_task", "schedule": crontab(hour=3, minute=0)},
    "clear-login-logs": {"task": "ill.tasks.clear_login_logs_task", "schedule": crontab(hour=3, minute=10)},
    "clear-email-bodies": {"task": "ill.tasks.clear_email_bodies_task", "schedule": crontab(hour=3, minute=20)},
    "anonymise-requests": {"task": "ill.tasks.anonymise_closed_requests_task", "schedule": crontab(hour=3, minute=30)},
    # The report pages' monthly figures (reports.rollup): the months changed since the last refresh.
    "reports-rollup": {"task": "reports.tasks.refresh_rollup_task", "schedule": 300.0},
    # ISO 18626 (iso18626.transport): what a peer did not confirm is sent again when due.
    "iso18626-outbox": {"task": "iso18626.tasks.sweep_task", "schedule": 60.0},
    # ISO 18626 (iso18626.lending): our loans overdue with a peer are told to it (once per due date).
    "iso18626-overdue": {"task": "iso18626.lending.tell_overdue_task", "schedule": crontab(hour=9, minute=15)},
}
