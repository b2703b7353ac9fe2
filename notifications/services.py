"""E-mail through an outbox (DESIGN.md §8).

`queue_message` renders a message and writes it in the caller's transaction, and queues the sending
task on commit. The outbox knows nothing of requests or money: the app that owns an event chooses
the template (`<app>/email/<language>/<kind>`), builds its context and names the recipients.
"""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications import tasks
from notifications.models import OutboxMessage

log = logging.getLogger(__name__)

K = OutboxMessage.Kind
# What periodic jobs send many of at once: queued behind the messages a patron is waiting for.
BULK_KINDS = frozenset({K.DUE_SOON, K.OVERDUE, K.NOT_COLLECTED, K.STAFF_DIGEST, K.BUDGET_ALERT})


def render(template: str, kind: str, language: str, context: dict) -> tuple[str, str, str]:
    """Subject, text and HTML of a message, from `<template>/<language>/<kind>{_subject.txt,.txt,.html}`."""
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    with translation.override(language):
        ctx = {"site_url": settings.SITE_URL.rstrip("/"), "language": language, **context}
        base = f"{template}/{language}/{kind}"
        subject = render_to_string(f"{base}_subject.txt", ctx).strip().replace("\n", " ")
        text = render_to_string(f"{base}.txt", ctx).strip() + "\n"
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
