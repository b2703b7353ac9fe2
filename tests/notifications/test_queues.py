"""E-mail has its own queue and worker; a patron's message overtakes bulk ones; the sweep is
bounded; `/health/` is cheap and keeps its Redis connection (issue 10, parts 4 and 6)."""

from pathlib import Path

import pytest
from django.db import transaction

from config.celery_app import app
from fees import tasks as fees_tasks
from ill import tasks as ill_tasks
from iso18626 import tasks as iso18626_tasks
from notifications import health, services, tasks
from notifications.models import OutboxMessage
from reports import tasks as reports_tasks
from tests import factories as f

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent.parent


def queue_of(task_name: str) -> str:
    route = app.amqp.router.route({}, task_name)
    return route["queue"].name


@pytest.mark.parametrize(
    "task_name",
    ["notifications.tasks.send_message_task", "notifications.tasks.sweep_outbox_task"],
)
def test_email_tasks_go_to_the_email_queue(task_name):
    assert queue_of(task_name) == "email"


@pytest.mark.parametrize(
    "task_name",
    [
        "fees.tasks.monitor_budgets_task",
        "fees.tasks.monitor_budget_codes_task",
        "ill.tasks.due_soon_task",
        "ill.tasks.overdue_task",
        "ill.tasks.not_collected_task",
        "ill.tasks.staff_digest_task",
        "ill.tasks.close_no_longer_needed_task",
    ],
)
def test_every_other_task_goes_to_the_default_queue(task_name):
    assert queue_of(task_name) == "celery"


def test_every_scheduled_task_exists_and_is_routed():
    # Imported at the top, as the worker's autodiscovery would: run alone, this test sees every task.
    assert fees_tasks.monitor_budgets_task.name in app.tasks and ill_tasks.due_soon_task.name in app.tasks
    assert reports_tasks.refresh_rollup_task.name in app.tasks and iso18626_tasks.sweep_task.name in app.tasks
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks
        assert queue_of(entry["task"]) in {"email", "celery"}


def test_docker_compose_runs_one_worker_per_queue():
    compose = (ROOT / "docker-compose.yml").read_text()
    assert '"worker", "-Q", "email"' in compose
    assert '"worker", "-Q", "celery"' in compose


@pytest.fixture
def published(monkeypatch):
    calls = []
    monkeypatch.setattr(
        tasks.send_message_task, "apply_async", lambda args, **options: calls.append((args, options.get("priority")))
    )
    return calls


def queue(kind: str, key: str):
    return services.queue_message(
        template="ill/email", kind=kind, idempotency_key=key, recipient="a@example.ac.jp", language="en", context={}
    )


def test_a_patrons_message_goes_first_and_reminders_after(published, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "render", lambda *args: ("s", "t", "h"))
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            urgent = queue("arrived", "k1")
            bulk = queue("overdue", "k2")
    assert published == [((urgent.pk,), tasks.URGENT), ((bulk.pk,), tasks.BULK)]
    assert tasks.URGENT < tasks.BULK  # Redis takes the lower number first


def test_the_sweep_requeues_at_bulk_priority_and_at_most_a_batch(published, settings):
    settings.JOB_BATCH_SIZE = 3
    for _ in range(5):
        f.OutboxMessageFactory()
    assert tasks.sweep() == 3
    assert {priority for _args, priority in published} == {tasks.BULK}
    oldest = list(OutboxMessage.objects.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:3])
    assert sorted(args[0] for args, _priority in published) == sorted(oldest)


def test_the_outbox_health_is_one_query(django_assert_num_queries):
    f.OutboxMessageFactory()
    f.OutboxMessageFactory(status="failed")
    with django_assert_num_queries(1):
        result = health.outbox()
    assert (result["pending"], result["failed"], result["ok"]) == (1, 1, False)


def test_one_redis_client_per_process_and_url():
    first = health.redis_client("redis://127.0.0.1:1/9", 0.5)
    assert health.redis_client("redis://127.0.0.1:1/9", 0.5) is first
    assert health.redis_client("redis://127.0.0.1:1/8", 0.5) is not first


@pytest.mark.redis
def test_health_pings_redis_on_one_kept_connection(settings):
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url=settings.REAL_BROKER_URL)
    try:
        assert health.broker()["ok"]
        client = health.redis_client(settings.REAL_BROKER_URL, 2.0)
        connection_id = client.client_id()
        for _ in range(20):
            assert health.broker()["ok"]
        assert client.client_id() == connection_id  # the same server-side connection all along
    finally:
        app.conf.update(saved)


def test_an_unreachable_broker_is_reported_not_raised(monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")  # Celery reads it before its settings
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:1/0")
    try:
        assert health.broker(timeout=0.5)["ok"] is False
    finally:
        app.conf.update(saved)


def test_the_health_report_is_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):  # the outbox query also proves the database answers
        result = health.report(check_workers=False)
    assert result["database"] == {"ok": True} and result["ok"]
