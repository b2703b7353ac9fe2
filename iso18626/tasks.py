"""Celery entry points for ISO 18626: send one outgoing message, sweep the outbox.

They are defined in `iso18626.transport` (which queues them, so defining them here would be an import
circle) under these names; Celery's autodiscovery imports this module, which imports them.

The retry policy lives in `iso18626.transport` (a failed attempt sets `next_attempt_at`; the beat
sweep, every minute, queues what is due), so a broker outage or a worker restart loses nothing: the
rows stay queued in the database.
"""

from iso18626.transport import deliver_task, enqueue, sweep_task

__all__ = ["deliver_task", "enqueue", "sweep_task"]
