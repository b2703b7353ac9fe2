"""Celery entry points for e-mail. Thin: take an id, call one service, own the retry policy."""

from celery import shared_task

from notifications import services


@shared_task(bind=True, max_retries=services.MAX_ATTEMPTS, acks_late=True, ignore_result=True)
def send_message_task(self, message_id: int):
    try:
        services.deliver(message_id)
    except services.DeliveryFailed as exc:
        if self.request.is_eager:
            return  # no broker to retry through: the row stays pending for the sweep
        attempts = services.OutboxMessage.objects.filter(pk=message_id).values_list("attempts", flat=True).first() or 1
        if attempts < services.MAX_ATTEMPTS:
            raise self.retry(exc=exc, countdown=services.backoff(attempts).total_seconds()) from exc


@shared_task(ignore_result=True)
def sweep_outbox_task():
    return services.sweep()


@shared_task(ignore_result=True)
def due_soon_task():
    from notifications import reminders

    return reminders.send_due_soon()


@shared_task(ignore_result=True)
def overdue_task():
    from notifications import reminders

    return reminders.send_overdue()


@shared_task(ignore_result=True)
def not_collected_task():
    from notifications import reminders

    return reminders.send_not_collected()


@shared_task(ignore_result=True)
def staff_digest_task():
    from notifications import reminders

    return reminders.send_staff_digest()
