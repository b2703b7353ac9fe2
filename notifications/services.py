"""E-mail through an outbox (DESIGN.md §8).

`queue_message` writes the message in the caller's transaction and queues the sending task on
commit; `deliver` sends one message, claiming it with a conditional UPDATE so that two workers (or
a retry and the sweep) can never both send it.
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A claimed message still "sending" after this long belongs to a worker that died: the task time
# limit (CELERY_TASK_TIME_LIMIT, 2 minutes) ends any live attempt long before.
STALE_CLAIM = datetime.timedelta(minutes=10)


def backoff(attempts: int) -> datetime.timedelta:
    """1, 2, 4, 8 … minutes between attempts, at most an hour."""
    return datetime.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def render(kind: str, language: str, context: dict) -> tuple[str, str, str]:
    """Subject, text and HTML of a message, from `notifications/email/<lang>/<kind>.*`."""
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    with translation.override(language):
        ctx = {"site_url": settings.SITE_URL.rstrip("/"), "language": language, **context}
        base = f"notifications/email/{language}/{kind}"
        subject = render_to_string(f"{base}_subject.txt", ctx).strip().replace("\n", " ")
        text = render_to_string(f"{base}.txt", ctx).strip() + "\n"
        html = render_to_string(f"{base}.html", ctx)
    return settings.EMAIL_SUBJECT_PREFIX + subject, text, html


def queue_message(
    *, kind: str, idempotency_key: str, recipient: str, language: str, context: dict, request=None, user=None
) -> OutboxMessage | None:
    """Store a message for sending after the current transaction commits.

    Returns None when a message with this key already exists (the event was already notified).
    """
    if not recipient:
        log.warning("no e-mail address for %s message %s", kind, idempotency_key)
        return None
    if OutboxMessage.objects.filter(idempotency_key=idempotency_key).exists():
        return None
    subject, text, html = render(kind, language, context)
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                kind=kind,
                idempotency_key=idempotency_key,
                recipient=recipient,
                recipient_user=user,
                language=language,
                subject=subject[:300],
                body_text=text,
                body_html=html,
                request=request,
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def _enqueue(message_id: int) -> None:
    from notifications.tasks import send_message_task

    try:
        send_message_task.delay(message_id)
    except Exception:  # broker down: the row stays pending and the sweep sends it later
        log.warning("could not queue message %s; the sweep will send it", message_id, exc_info=True)


def notify_patron(request, kind: str, *, event=None, key: str | None = None, extra: dict | None = None):
    """The patron's e-mail about their request, in their language. One per event (or per `key`
    for reminders, which have no event)."""
    from notifications.context import request_context

    patron = request.patron
    return queue_message(
        kind=kind,
        idempotency_key=key or f"{kind}:event:{event.pk}",
        recipient=patron.user.email,
        language=patron.preferred_language,
        context={**request_context(request, event=event), **(extra or {})},
        request=request,
        user=patron.user,
    )


class DeliveryFailed(Exception):
    """Sending failed and will be retried."""


def deliver(message_id: int) -> bool:
    """Send one message if nobody else is sending or has sent it. Returns True when sent now."""
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.PENDING).update(
        status=OutboxMessage.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    message = OutboxMessage.objects.get(pk=message_id)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"Message-ID": f"<{message.idempotency_key.replace(':', '.')}.{message.pk}@ill-desk>"},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    try:
        email.send(fail_silently=False)
    except Exception as exc:
        final = message.attempts >= MAX_ATTEMPTS
        OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.SENDING).update(
            status=OutboxMessage.Status.FAILED if final else OutboxMessage.Status.PENDING,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            next_attempt_at=timezone.now() + backoff(message.attempts),
        )
        raise DeliveryFailed(str(exc)) from exc
    OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.SENDING).update(
        status=OutboxMessage.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def sweep(now: datetime.datetime | None = None) -> int:
    """Queue again what is due and was not sent: rows whose task was lost (broker down, worker
    killed) and rows whose worker died while sending. Returns how many were queued."""
    now = now or timezone.now()
    OutboxMessage.objects.filter(status=OutboxMessage.Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=OutboxMessage.Status.PENDING
    )
    due = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    for message_id in due:
        _enqueue(message_id)
    return len(due)


def retry(message: OutboxMessage) -> bool:
    """Staff ask for a failed message to be tried again. False when it was not failed."""
    updated = OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.FAILED).update(
        status=OutboxMessage.Status.PENDING, next_attempt_at=timezone.now(), attempts=0
    )
    if updated:
        transaction.on_commit(lambda: _enqueue(message.pk))
    return bool(updated)


def admin_recipients():
    """Users who administer the ILL service and have an e-mail address."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from ill.roles import ILL_ADMINS

    return (
        get_user_model()
        .objects.filter(Q(is_superuser=True) | Q(groups__name=ILL_ADMINS), is_active=True)
        .exclude(email="")
        .distinct()
    )


def user_language(user) -> str:
    patron = getattr(user, "patron", None) if hasattr(user, "patron") else None
    return patron.preferred_language if patron is not None else settings.LANGUAGE_CODE


def notify_admins(kind: str, *, key: str, context: dict) -> int:
    """One message per administrator; `key` makes each alert go out once."""
    sent = 0
    for user in admin_recipients():
        message = queue_message(
            kind=kind,
            idempotency_key=f"{key}:user:{user.pk}",
            recipient=user.email,
            language=user_language(user),
            context=context,
            user=user,
        )
        sent += message is not None
    return sent
