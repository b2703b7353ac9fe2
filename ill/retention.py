"""Retention: what the desk stops keeping, run nightly by Celery beat in batches (`ill.reminders`).

A patron's request history is a reading record (the library profession's privacy principle, and
Japan's APPI: personal data kept no longer than its purpose needs). So:

- **Closed requests** (the lifecycle's final states: handed over, closed, rejected, cancelled) are
  anonymised RETENTION_REQUEST_YEARS after they closed. The request is moved to a placeholder
  patron of the same category, department and home branch ("Anonymised patron", no login, one per
  combination), so every page, the admin, the reports and the CSV files keep working and the
  figures by category or department stay the same; the free text that may name the person is
  emptied (their note and comments, the note to them, staff's override reasons, every history note,
  the extension reasons and answers, payment notes), the patron's own login is removed from the
  history (entered by, actor, requested by), and the request's e-mails lose their recipient and
  text. Kind, bibliographic data, dates, status, lender, branch, budget code, payment class and all
  money (charges and their lines, payments, ledger entries, support uses) stay.
- **Expired sessions** are deleted (Django's clearsessions) when RETENTION_SESSIONS is on.
- **Log-in records** of django-axes (attempts, log-ins, failures) older than
  RETENTION_LOGIN_LOG_DAYS are deleted.
- **E-mail bodies**: the text and HTML of messages sent more than RETENTION_EMAIL_BODY_DAYS ago are
  emptied; the row (kind, recipient, subject, status, times, attempts) stays for the audit.

Each `*_batch` handles at most JOB_BATCH_SIZE rows in index order after a cursor and says where the
next batch starts (the Celery task queues it, `ill.tasks`); each is idempotent: what it did no
longer matches its query, so a second run finds nothing and a run cut short is resumed from the
cursor or, with no cursor, from the start.
"""

import datetime
import hashlib
from importlib import import_module

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from fees.models import Payment, SupportUse
from ill import lifecycle
from ill.models import ExtensionRequest, Request, RequestEvent
from ill.reminders import Batch, next_rows, run_all
from notifications.models import OutboxMessage
from patrons.models import Patron

ANONYMISED_PATRON = _("Anonymised patron")
PLACEHOLDER_PREFIX = "ANON-"
DB_SESSION_ENGINES = ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


# --- closed requests ----------------------------------------------------------------------------


def request_cutoff(today: datetime.date | None = None) -> datetime.datetime | None:
    """Requests closed before this time are anonymised (None: RETENTION_REQUEST_YEARS is 0)."""
    years = settings.RETENTION_REQUEST_YEARS
    if years <= 0:
        return None
    return _midnight(_today(today) - relativedelta(years=years))


def to_anonymise(cutoff: datetime.datetime):
    """Closed requests older than the cutoff not anonymised yet (the partial index request_to_anonymise)."""
    return Request.objects.filter(
        status__in=lifecycle.FINAL_STATES, closed_at__isnull=False, closed_at__lt=cutoff, anonymised_at__isnull=True
    )


def placeholder_for(patron: Patron) -> Patron:
    """The anonymised patron standing for everyone of this category, department and home branch."""
    if patron.patron_number.startswith(PLACEHOLDER_PREFIX) and not patron.user.is_active:
        return patron
    key = f"{patron.category}|{patron.department}|{patron.home_branch_id}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    number = f"{PLACEHOLDER_PREFIX}{digest}"
    existing = Patron.objects.filter(patron_number=number).first()
    if existing is not None:
        return existing
    user, created = get_user_model().objects.get_or_create(
        username=f"anonymised-{digest}", defaults={"is_active": False, "email": ""}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    with translation.override(settings.LANGUAGE_CODE):
        name = str(ANONYMISED_PATRON)
    placeholder, _created = Patron.objects.get_or_create(
        patron_number=number,
        defaults={
            "user": user,
            "full_name": name,
            "category": patron.category,
            "department": patron.department,
            "home_branch_id": patron.home_branch_id,
            "preferred_language": settings.LANGUAGE_CODE,
        },
    )
    return placeholder


def _forget_own_login(model, field: str, rows: list[Request]) -> None:
    """Empty `field` where it is the login of the request's own patron (staff keep their name):
    one read of the candidates, one update."""
    login_of = {r.pk: r.patron.user_id for r in rows}
    candidates = model.objects.filter(
        request_id__in=list(login_of), **{f"{field}_id__in": set(login_of.values())}
    ).values_list("pk", "request_id", f"{field}_id")
    own = [pk for pk, request_id, user_id in candidates if login_of[request_id] == user_id]
    if own:
        model.objects.filter(pk__in=own).update(**{field: None})


def anonymise_requests(rows: list[Request], now: datetime.datetime | None = None) -> int:
    """Anonymise these requests (see the module's docstring), all in one transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Request.objects.select_for_update()
            .filter(pk__in=[r.pk for r in rows], anonymised_at__isnull=True)
            .values_list("pk", flat=True)
        )
        locked = set(ids)
        rows = [r for r in rows if r.pk in locked]
        if not rows:
            return 0
        placeholders: dict[tuple, Patron] = {}
        groups: dict[int, list[int]] = {}
        for request in rows:
            patron = request.patron
            key = (patron.category, patron.department, patron.home_branch_id)
            if key not in placeholders:
                placeholders[key] = placeholder_for(patron)
            groups.setdefault(placeholders[key].pk, []).append(request.pk)
        own_logins = [r.pk for r in rows if r.created_by_id is not None and r.created_by_id == r.patron.user_id]
        if own_logins:
            Request.objects.filter(pk__in=own_logins).update(created_by=None)
        _forget_own_login(RequestEvent, "actor", rows)
        _forget_own_login(ExtensionRequest, "requested_by", rows)
        for placeholder_id, request_ids in groups.items():
            Request.objects.filter(pk__in=request_ids).update(
                patron_id=placeholder_id,
                note="",
                comments="",
                status_note="",
                duplicate_override_reason="",
                copyright_override_reason="",
                anonymised_at=now,
            )
            SupportUse.objects.filter(request_id__in=request_ids).update(patron_id=placeholder_id)
        RequestEvent.objects.filter(request_id__in=ids).exclude(note="").update(note="")
        ExtensionRequest.objects.filter(request_id__in=ids).update(reason="", answer_note="")
        Payment.objects.filter(request_id__in=ids).exclude(note="").update(note="")
        OutboxMessage.objects.filter(request_id__in=ids).update(
            recipient="", recipient_user=None, body_text="", body_html=""
        )
    return len(rows)


def anonymise_closed_requests_batch(
    today: datetime.date | None = None, *, after: list | None = None, size: int | None = None
) -> Batch:
    cutoff = request_cutoff(today)
    if cutoff is None:
        return Batch(done={"anonymised": 0})
    rows, after = next_rows(to_anonymise(cutoff).select_related("patron__user"), "closed_at", after, size)
    return Batch(after=after, done={"anonymised": anonymise_requests(rows)})


def anonymise_closed_requests(today: datetime.date | None = None) -> int:
    return run_all(anonymise_closed_requests_batch, today=today).done.get("anonymised", 0)


# --- sessions -----------------------------------------------------------------------------------


def clear_sessions_batch(
    today: datetime.date | None = None, *, after: list | None = None, size: int | None = None
) -> Batch:
    """Expired sessions deleted, a batch at a time on the expiry index (what clearsessions does in
    one statement); other session engines clear themselves (`SessionStore.clear_expired`)."""
    if not settings.RETENTION_SESSIONS:
        return Batch(done={"sessions": 0})
    if settings.SESSION_ENGINE not in DB_SESSION_ENGINES:
        import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
        return Batch(done={"sessions": 0})
    expired = Session.objects.filter(expire_date__lt=timezone.now())
    rows, after = next_rows(expired, "expire_date", after, size)
    deleted, _by_model = Session.objects.filter(pk__in=[s.pk for s in rows], expire_date__lt=timezone.now()).delete()
    return Batch(after=after, done={"sessions": deleted})


def clear_sessions() -> int:
    return run_all(clear_sessions_batch).done.get("sessions", 0)


# --- log-in records -----------------------------------------------------------------------------

LOGIN_LOGS = (("attempts", AccessAttempt), ("logins", AccessLog), ("failures", AccessFailureLog))


def login_log_cutoff(today: datetime.date | None = None) -> datetime.datetime | None:
    days = settings.RETENTION_LOGIN_LOG_DAYS
    return None if days <= 0 else _midnight(_today(today) - datetime.timedelta(days=days))


def clear_login_logs_batch(
    today: datetime.date | None = None, *, after: list | None = None, size: int | None = None
) -> Batch:
    """django-axes' records older than the cutoff, oldest first (their ids grow with the time). The
    cursor is [table, id]: each table in turn."""
    cutoff = login_log_cutoff(today)
    done = {name: 0 for name, _model in LOGIN_LOGS}
    if cutoff is None:
        return Batch(done=done)
    size = size or settings.JOB_BATCH_SIZE
    start = after[0] if after else LOGIN_LOGS[0][0]
    names = [name for name, _model in LOGIN_LOGS]
    for name, model in LOGIN_LOGS[names.index(start) :]:
        old = model.objects.filter(attempt_time__lt=cutoff)
        ids = list(old.order_by("pk").values_list("pk", flat=True)[:size])
        if ids:
            model.objects.filter(pk__in=ids).delete()
        done[name] = len(ids)
        if len(ids) == size:
            return Batch(after=[name, ids[-1]], done=done)
    return Batch(done=done)


def clear_login_logs(today: datetime.date | None = None) -> dict:
    return run_all(clear_login_logs_batch, today=today).done


# --- e-mail bodies ------------------------------------------------------------------------------


def email_body_cutoff(today: datetime.date | None = None) -> datetime.datetime | None:
    days = settings.RETENTION_EMAIL_BODY_DAYS
    return None if days <= 0 else _midnight(_today(today) - datetime.timedelta(days=days))


def clear_email_bodies_batch(
    today: datetime.date | None = None, *, after: list | None = None, size: int | None = None
) -> Batch:
    """Sent messages older than the cutoff still holding a body, in the order of the outbox's index
    (status, next_attempt_at): a message is sent at or after its next attempt time, so the scan
    stops at the cutoff instead of reading the recent outbox."""
    cutoff = email_body_cutoff(today)
    if cutoff is None:
        return Batch(done={"emails": 0})
    old = OutboxMessage.objects.filter(
        Q(status=OutboxMessage.Status.SENT, next_attempt_at__lt=cutoff, sent_at__lt=cutoff)
        & (~Q(body_text="") | ~Q(body_html=""))
    ).only("pk", "next_attempt_at")
    rows, after = next_rows(old, "next_attempt_at", after, size)
    emptied = OutboxMessage.objects.filter(pk__in=[m.pk for m in rows]).update(body_text="", body_html="")
    return Batch(after=after, done={"emails": emptied})


def clear_email_bodies(today: datetime.date | None = None) -> int:
    return run_all(clear_email_bodies_batch, today=today).done.get("emails", 0)
