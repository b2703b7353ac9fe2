"""Retention (issue 12, finding 8): nightly jobs anonymise closed requests after N years and clear
expired sessions, old log-in records and old e-mail bodies — in batches that resume from their
cursor, idempotent, and keeping every figure the reports show."""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from config.schedules import BEAT_SCHEDULE
from fees.models import BudgetLedgerEntry, Charge, ChargeLine, Payment, SupportUse
from fees.selectors import Period, charge_totals, charges_detail, charges_summary
from ill import retention, tasks
from ill.models import ExtensionRequest, Request, RequestEvent
from notifications.models import OutboxMessage
from patrons.models import Patron
from tests import factories as f

pytestmark = pytest.mark.django_db

TOKYO = datetime.timezone(datetime.timedelta(hours=9))
TODAY = datetime.date(2026, 12, 10)
OLD = datetime.date(2020, 6, 1)  # six years before TODAY: past the default five
RECENT = datetime.date(2022, 11, 1)  # four years before: kept


def at(day: datetime.date, hour=10):
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, hour, tzinfo=TOKYO), tick=False)


def moment(day: datetime.date, hour=10):
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=TOKYO)


def closed(request, day, **fields):
    Request.objects.filter(pk=request.pk).update(closed_at=moment(day), **fields)
    request.refresh_from_db()
    return request


@pytest.fixture
def history(settings, branch, staff_user, public_code, lender):
    """A patron's requests: three closed long ago (a loan with money, a support copy, a cancelled
    one), one rejected recently, one still on loan; another patron's old request."""
    settings.RETENTION_REQUEST_YEARS = 5
    patron = f.PatronFactory(
        full_name="山田 太郎", category="masters", department="工学研究科", home_branch=branch, user__username="taro"
    )
    other = f.PatronFactory(full_name="Other Person", category="faculty", department="医学部", home_branch=branch)
    support = f.SupportBudgetFactory(fiscal_year=2020)
    with at(OLD):
        loan = f.RequestFactory(
            patron=patron,
            status="closed",
            close_reason="completed",
            note="For my thesis on my illness",
            comments="Call me at 090-1234-5678",
            status_note="Dear Mr Yamada, ...",
            duplicate_override_reason="Yamada asked again",
            expense_type="public",
            budget_code=public_code,
            lender=lender,
            created_by=patron.user,
        )
        charge = f.ChargeFactory(request=loan, payment_class="public", budget_code=public_code, total=1600)
        f.ChargeLineFactory(charge=charge)
        f.PaymentFactory(charge=charge, note="paid by Yamada's mother")
        f.BudgetLedgerEntryFactory(budget_code=public_code, request=loan, amount=1600, entry_type="charge")
        f.RequestEventFactory(request=loan, actor=patron.user, note="I need it by Friday", visible_to_patron=True)
        f.RequestEventFactory(request=loan, actor=staff_user, note="Told Yamada it arrived", visible_to_patron=False)
        ExtensionRequest.objects.create(
            request=loan, requested_by=patron.user, reason="I am in hospital", state="refused", answer_note="No"
        )
        f.OutboxMessageFactory(
            request=loan,
            recipient="taro@example.ac.jp",
            recipient_user=patron.user,
            subject="[ILL] arrived",
            body_text="Dear 山田 太郎",
            body_html="<p>Dear 山田 太郎</p>",
            status="sent",
            sent_at=timezone.now(),
        )
        copy = f.CopyRequestFactory(patron=patron, status="handed_over", support_budget=support, lender=lender)
        f.ChargeFactory(request=copy, payment_class="support", total=980)
        cancelled = f.RequestFactory(patron=patron, status="cancelled")
        theirs = f.RequestFactory(patron=other, status="closed", close_reason="unfilled", note="other's note")
    for request in (loan, copy, cancelled, theirs):
        closed(request, OLD)
    with at(RECENT):
        rejected = closed(f.RequestFactory(patron=patron, status="rejected", note="recent"), RECENT)
    on_loan = f.RequestFactory(patron=patron, status="on_loan", note="open", due_date=TODAY)
    return {
        "patron": patron,
        "other": other,
        "loan": loan,
        "copy": copy,
        "cancelled": cancelled,
        "theirs": theirs,
        "rejected": rejected,
        "on_loan": on_loan,
    }


def money():
    """Everything about money, as the reports and the accounting office read it."""
    period = Period(2020)
    detail = [row[:2] + row[3:] for row in charges_detail(period)]  # all but the patron number
    return {
        "totals": charge_totals(period),
        "summary": list(charges_summary(period)),
        "detail": detail,
        "charges": sorted(Charge.objects.values_list("request_id", "payment_class", "total", "state", "budget_code")),
        "lines": sorted(ChargeLine.objects.values_list("charge_id", "code", "amount")),
        "payments": sorted(Payment.objects.values_list("request_id", "amount", "method", "receipt_number")),
        "ledger": sorted(BudgetLedgerEntry.objects.values_list("request_id", "budget_code_id", "entry_type", "amount")),
        "support": sorted(SupportUse.objects.values_list("request_id", "budget_id", "state", "amount")),
    }


def facts(request):
    """What stays of a request: kind, dates, status, lender, branch, budget code, payment class."""
    request.refresh_from_db()
    return (
        request.number,
        request.kind,
        request.status,
        request.close_reason,
        request.title,
        request.lender_id,
        request.pickup_branch_id,
        request.budget_code_id,
        request.expense_type,
        request.support_budget_id,
        request.submitted_at,
        request.closed_at,
    )


def test_closed_requests_are_anonymised_after_the_retention_years_and_nothing_else(history, staff_user):
    old = [history[k] for k in ("loan", "copy", "cancelled", "theirs")]
    kept = [history[k] for k in ("rejected", "on_loan")]
    before_money, before_facts = money(), [facts(r) for r in old + kept]
    with at(TODAY):
        assert retention.anonymise_closed_requests(TODAY) == 4

    assert money() == before_money
    assert [facts(r) for r in old + kept] == before_facts
    patron = history["patron"]
    loan = Request.objects.get(pk=history["loan"].pk)
    placeholder = loan.patron
    assert placeholder != patron and placeholder.patron_number.startswith("ANON-")
    assert (placeholder.category, placeholder.department, placeholder.home_branch_id) == (
        "masters",
        "工学研究科",
        patron.home_branch_id,
    )
    assert not placeholder.user.is_active and not placeholder.user.has_usable_password()
    assert loan.anonymised_at is not None
    assert (loan.note, loan.comments, loan.status_note, loan.duplicate_override_reason) == ("", "", "", "")
    assert loan.created_by is None
    assert not RequestEvent.objects.filter(request=loan).exclude(note="").exists()
    assert list(RequestEvent.objects.filter(request=loan).values_list("actor", flat=True)) == [None, staff_user.pk]
    extension = ExtensionRequest.objects.get(request=loan)
    assert (extension.reason, extension.answer_note, extension.requested_by) == ("", "", None)
    message = OutboxMessage.objects.get(request=loan)
    assert (message.recipient, message.recipient_user, message.body_text, message.body_html) == ("", None, "", "")
    assert (message.subject, message.status) == ("[ILL] arrived", "sent")
    assert Payment.objects.get(request=loan).note == ""
    assert SupportUse.objects.get(request=history["copy"]).patron == placeholder  # same category and department
    # Every old request of the patron is gone from them; the other patron's went to their own placeholder.
    assert set(Request.objects.filter(patron=patron)) == set(kept)
    theirs = Request.objects.get(pk=history["theirs"].pk)
    assert theirs.patron.category == "faculty" and theirs.patron != placeholder and theirs.note == ""
    # The recent and the open ones are untouched.
    for request in kept:
        request.refresh_from_db()
        assert request.patron == patron and request.anonymised_at is None and request.note
    assert Patron.objects.filter(patron_number__startswith="ANON-").count() == 2
    # The patron may now be deleted: nothing of theirs protects them any more but the kept requests.
    assert not SupportUse.objects.filter(patron=patron).exists()


def test_anonymising_runs_in_batches_that_resume_and_is_idempotent(settings, history):
    settings.JOB_BATCH_SIZE = 3
    with at(TODAY):
        first = retention.anonymise_closed_requests_batch(TODAY)
        assert first.done == {"anonymised": 3} and first.after is not None
        second = retention.anonymise_closed_requests_batch(TODAY, after=first.after)
        assert second.done == {"anonymised": 1} and second.after is None
        anonymised = dict(Request.objects.filter(anonymised_at__isnull=False).values_list("pk", "anonymised_at"))
        assert len(anonymised) == 4
        # Again, or a run cut short and started over without its cursor: nothing more to do.
        assert retention.anonymise_closed_requests(TODAY) == 0
        assert dict(Request.objects.filter(anonymised_at__isnull=False).values_list("pk", "anonymised_at")) == (
            anonymised
        )
    assert Patron.objects.filter(patron_number__startswith="ANON-").count() == 2


def test_the_beat_task_chains_its_batches(settings, history):
    settings.JOB_BATCH_SIZE = 1
    with at(TODAY):
        tasks.anonymise_closed_requests_task.delay()  # eager: each batch queues the next
    assert Request.objects.filter(anonymised_at__isnull=False).count() == 4


def test_zero_years_keeps_every_request(settings, history):
    settings.RETENTION_REQUEST_YEARS = 0
    with at(TODAY):
        assert retention.anonymise_closed_requests(TODAY) == 0
    assert not Request.objects.filter(anonymised_at__isnull=False).exists()


def test_a_request_is_kept_until_its_retention_years_have_passed(settings, history):
    settings.RETENTION_REQUEST_YEARS = 6
    day = datetime.date(2026, 6, 1)  # closed 2020-06-01 10:00: six years are over on 2 June
    with at(day):
        assert retention.anonymise_closed_requests(day) == 0
    with at(day + datetime.timedelta(days=1)):
        assert retention.anonymise_closed_requests(day + datetime.timedelta(days=1)) == 4


def test_every_page_shows_an_anonymised_request(client, admin_client, staff_user, history):
    with at(TODAY):
        retention.anonymise_closed_requests(TODAY)
    loan = Request.objects.get(pk=history["loan"].pk)
    client.force_login(staff_user)
    page = client.get(reverse("desk:request", args=[loan.number]))
    assert page.status_code == 200
    assert b'data-testid="anonymised"' in page.content and "山田".encode() not in page.content
    for name in ("desk:slip",):
        assert client.get(reverse(name, args=[loan.number])).status_code == 200
    assert client.get(reverse("desk:patron", args=[loan.patron.patron_number])).status_code == 200
    assert client.get(reverse("desk:queue") + "?q=" + loan.number).status_code == 200
    report = reverse("desk:charges_report")
    assert client.get(report + "?year=2020").status_code == 200
    detail = client.get(report + "?year=2020&format=detail")
    assert detail.status_code == 200
    csv = b"".join(detail.streaming_content).decode()
    assert loan.number in csv and loan.patron.patron_number in csv and "P0" not in csv.split(loan.number)[1][:30]
    assert client.get(report + "?year=2020&format=csv").status_code == 200
    for url in (
        reverse("admin:ill_request_change", args=[loan.pk]),
        reverse("admin:ill_request_changelist") + "?q=" + loan.number,
        reverse("admin:patrons_patron_change", args=[loan.patron.pk]),
        reverse("admin:notifications_outboxmessage_changelist"),
        reverse("admin:fees_charge_changelist"),
    ):
        assert admin_client.get(url).status_code == 200, url


# --- sessions, log-in records, e-mail bodies ------------------------------------------------------


def _session(expires: datetime.datetime) -> str:
    store = SessionStore()
    store["x"] = 1
    store.create()
    Session.objects.filter(pk=store.session_key).update(expire_date=expires)
    return store.session_key


def test_expired_sessions_are_cleared_in_batches(settings):
    settings.JOB_BATCH_SIZE = 2
    with at(TODAY):
        now = timezone.now()
        expired = {_session(now - datetime.timedelta(hours=h)) for h in (1, 2, 30, 400, 9000)}
        live = {_session(now + datetime.timedelta(hours=h)) for h in (1, 300)}
        first = retention.clear_sessions_batch(TODAY)
        assert first.done == {"sessions": 2} and first.after is not None
        assert retention.clear_sessions_batch(TODAY, after=first.after).done == {"sessions": 2}
        assert retention.clear_sessions() == 1  # resumed from the start: what is left
        assert retention.clear_sessions() == 0
    assert set(Session.objects.values_list("pk", flat=True)) == live
    assert not expired & live


def test_sessions_are_kept_when_switched_off(settings):
    settings.RETENTION_SESSIONS = False
    with at(TODAY):
        _session(timezone.now() - datetime.timedelta(days=1))
        assert retention.clear_sessions() == 0
    assert Session.objects.count() == 1


def _login_records(day: datetime.date, n: int):
    with at(day):
        for i in range(n):
            fields = {"user_agent": f"ua{day}{i}", "ip_address": "192.0.2.1", "username": f"u{i}", "path_info": "/"}
            AccessAttempt.objects.create(**fields, get_data="", post_data="", failures_since_start=1)
            AccessLog.objects.create(**fields)
            AccessFailureLog.objects.create(**fields)


def test_old_login_records_are_deleted_in_batches(settings):
    settings.RETENTION_LOGIN_LOG_DAYS = 90
    settings.JOB_BATCH_SIZE = 2
    _login_records(TODAY - datetime.timedelta(days=100), 3)
    _login_records(TODAY - datetime.timedelta(days=10), 2)
    with at(TODAY):
        first = retention.clear_login_logs_batch(TODAY)
        assert first.after == ["attempts", first.after[1]] and first.done["attempts"] == 2
        batches = [first]
        while batches[-1].after is not None:
            batches.append(retention.clear_login_logs_batch(TODAY, after=batches[-1].after))
        assert sum(sum(b.done.values()) for b in batches) == 9
        assert retention.clear_login_logs(TODAY) == {"attempts": 0, "logins": 0, "failures": 0}
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        assert model.objects.count() == 2
        assert all(
            t.date() >= TODAY - datetime.timedelta(days=11)
            for t in model.objects.values_list("attempt_time", flat=True)
        )


def test_login_records_are_kept_with_zero_days(settings):
    settings.RETENTION_LOGIN_LOG_DAYS = 0
    _login_records(TODAY - datetime.timedelta(days=1000), 1)
    with at(TODAY):
        assert retention.clear_login_logs(TODAY) == {"attempts": 0, "logins": 0, "failures": 0}
    assert AccessLog.objects.count() == 1


def _message(day: datetime.date, status="sent", **fields):
    with at(day):
        sent = {"sent_at": timezone.now()} if status == "sent" else {}
        return f.OutboxMessageFactory(
            status=status, body_text="Dear 山田", body_html="<p>Dear 山田</p>", **sent, **fields
        )


def test_old_email_bodies_are_emptied_and_the_rows_kept(settings):
    settings.RETENTION_EMAIL_BODY_DAYS = 90
    settings.JOB_BATCH_SIZE = 2
    old = [_message(TODAY - datetime.timedelta(days=d)) for d in (400, 200, 100)]
    old_failed = _message(TODAY - datetime.timedelta(days=200), status="failed")
    recent = _message(TODAY - datetime.timedelta(days=30))
    with at(TODAY):
        first = retention.clear_email_bodies_batch(TODAY)
        assert first.done == {"emails": 2} and first.after is not None
        assert retention.clear_email_bodies_batch(TODAY, after=first.after).done == {"emails": 1}
        assert retention.clear_email_bodies(TODAY) == 0
    for message in old:
        message.refresh_from_db()
        assert (message.body_text, message.body_html) == ("", "")
        assert (message.status, message.subject, message.recipient) == ("sent", "Subject", "someone@example.ac.jp")
    for message in (old_failed, recent):  # a failed one may still be sent again from the desk
        message.refresh_from_db()
        assert message.body_text == "Dear 山田"
    assert OutboxMessage.objects.count() == 5


def test_every_retention_job_is_on_the_beat_schedule():
    names = {entry["task"] for entry in BEAT_SCHEDULE.values()}
    for task in (
        tasks.anonymise_closed_requests_task,
        tasks.clear_sessions_task,
        tasks.clear_login_logs_task,
        tasks.clear_email_bodies_task,
    ):
        assert task.name in names


def test_the_desk_patron_list_leaves_out_the_placeholders(client, staff_user, history):
    with at(TODAY):
        retention.anonymise_closed_requests(TODAY)
    placeholder = Request.objects.get(pk=history["loan"].pk).patron
    assert placeholder.patron_number.startswith(retention.PLACEHOLDER_PREFIX)
    client.force_login(staff_user)
    listed = client.get(reverse("desk:patrons"))
    assert listed.status_code == 200
    assert placeholder.patron_number.encode() not in listed.content
    found = client.get(reverse("desk:patrons"), {"q": str(retention.ANONYMISED_PATRON)})
    assert placeholder.patron_number.encode() not in found.content
