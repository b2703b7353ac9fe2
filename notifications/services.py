"""E-mail through an outbox (DESIGN.md §8).

`queue_message` renders a message and writes it in the caller's transaction, and queues the sending
task on commit. The outbox knows nothing of requests or money: the app that owns an event chooses
the template (`<app>/email/<language>/<kind>`), builds its context and names the recipients.
"""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template import Context, engines
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications import tasks
from notifications.models import OutboxMessage, new_message_id

log = logging.getLogger(__name__)

K = OutboxMessage.Kind
# What periodic jobs send many of at once: queued behind the messages a patron is waiting for.
BULK_KINDS = frozenset({K.DUE_SOON, K.OVERDUE, K.NOT_COLLECTED, K.STAFF_DIGEST, K.BUDGET_ALERT})


def render_plain(name: str, context: dict) -> str:
    """A plain-text template (a text part or a subject) with HTML escaping off: a patron reads
    `Tom & Jerry`, not `Tom &amp; Jerry`. Nothing in plain text is interpreted as markup, so
    nothing needs escaping; the HTML part is rendered as usual, escaped."""
    return engines["django"].engine.get_template(name).render(Context(context, autoescape=False))


def render(template: str, kind: str, language: str, context: dict) -> tuple[str, str, str]:
    """Subject, text and HTML of a message, from `<template>/<language>/<kind>{_subject.txt,.txt,.html}`."""
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    with translation.override(language):
        ctx = {"site_url": settings.SITE_URL.rstrip("/"), "language": language, **context}
        base = f"{template}/{language}/{kind}"
        subject = render_plain(f"{base}_subject.txt", ctx).strip().replace("\n", " ")
        text = render_plain(f"{base}.txt", ctx).strip() + "\n"
        html = render_to_string(f"{base}.html", ctx)
    return settings.EMAIL_SUBJECT_PREFIX + subject, text, html


def queue_message(
    *,
    template: str,
    kind: str,
    idempotency_key: str,
    recipient: str,
    language: str,
    context: dict,
    request=None,
    user=None,
) -> OutboxMessage | None:
    """Store a message for sending after the current transaction commits.

    Returns None when a message with this key already exists (the event was already notified).
    """
    if not recipient:
        log.warning("no e-mail address for %s message %s", kind, idempotency_key)
        return None
    if OutboxMessage.objects.filter(idempotency_key=idempotency_key).exists():
        return None
    subject, text, html = render(template, kind, language, context)
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                kind=kind,
                idempotency_key=idempotency_key,
                recipient=recipient,
                recipient_user=user,
                language=language,
                message_id=new_message_id(idempotency_key),
                subject=subject[:300],
                body_text=text,
                body_html=html,
                request=request,
            )
    except IntegrityError:
        return None
    bulk = kind in BULK_KINDS
    transaction.on_commit(lambda: tasks.enqueue(message.pk, bulk=bulk))
    return message


def notify_users(recipients: Iterable[tuple], *, template: str, kind: str, key: str, context: dict) -> int:
    """One message per (user, language) in `recipients`; `key` makes each go out once per user.
    One query finds who already has it, so a job that checks often costs one query, not one a user."""
    recipients = list(recipients)
    keys = {user.pk: f"{key}:user:{user.pk}" for user, _language in recipients}
    existing = OutboxMessage.objects.filter(idempotency_key__in=keys.values()).order_by()  # the unique index
    done = set(existing.values_list("idempotency_key", flat=True))
    sent = 0
    for user, language in recipients:
        if keys[user.pk] in done:
            continue
        message = queue_message(
            template=template,
            kind=kind,
            idempotency_key=keys[user.pk],
            recipient=user.email,
            language=language,
            context=context,
            user=user,
        )
        sent += message is not None
    return sent


def retry(message: OutboxMessage) -> bool:
    """Staff ask for a failed message to be tried again. False when it was not failed."""
    updated = OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.FAILED).update(
        status=OutboxMessage.Status.PENDING, next_attempt_at=timezone.now(), attempts=0
    )
    if updated:
        transaction.on_commit(lambda: tasks.enqueue(message.pk))
    return bool(updated)


def push_batch() -> int:
    """At most this many messages per push from the desk (JOB_BATCH_SIZE); the next push takes the rest."""
    return settings.JOB_BATCH_SIZE


def _push(current: str, message_ids: Iterable[int] | None, order: tuple[str, ...], **changes) -> int:
    """Queue now the first `push_batch()` messages in status `current` (of `message_ids`, or all),
    after setting `changes` on those still in it (one a worker claimed meanwhile is left to it)."""
    messages = OutboxMessage.objects.filter(status=current)
    if message_ids is not None:
        messages = messages.filter(pk__in=list(message_ids))
    rows = list(messages.order_by(*order).values_list("pk", "kind")[: push_batch()])
    if not rows:
        return 0
    updated = OutboxMessage.objects.filter(pk__in=[pk for pk, _kind in rows], status=current).update(
        next_attempt_at=timezone.now(), **changes
    )

    def enqueue_all():
        for pk, kind in rows:
            tasks.enqueue(pk, bulk=kind in BULK_KINDS)  # one claimed meanwhile is skipped by the worker

    transaction.on_commit(enqueue_all)
    return updated


def send_now(message_ids: Iterable[int] | None = None) -> int:
    """Staff push pending messages (those of `message_ids`, or all) to the workers now instead of
    at their next attempt: after an outage, without waiting out the backoff. The longest waiting
    first, at most `push_batch()`. The attempts are kept: a message that then fails for the
    eighth time is failed, and can be sent again as such. A message being sent, sent or failed
    is left alone. Returns how many were queued."""
    return _push(OutboxMessage.Status.PENDING, message_ids, ("next_attempt_at", "pk"))


def retry_failed(message_ids: Iterable[int] | None = None) -> int:
    """`retry` for many failed messages (those of `message_ids`, or all), the oldest first, at
    most `push_batch()`. Returns how many were queued."""
    return _push(
        OutboxMessage.Status.FAILED, message_ids, ("created_at", "pk"), status=OutboxMessage.Status.PENDING, attempts=0
    )
