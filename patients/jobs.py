"""What the background worker runs (django-q2 tasks and the schedule)."""

from __future__ import annotations

import logging

from django.utils import timezone

from . import escalation, notifications, recording

log = logging.getLogger(__name__)

# The scheduler runs ``tick`` this often; cascade timers and retries are
# therefore late by at most this much.
TICK_MINUTES = 1


def deliver(notification_id: int) -> bool:
    """Send one notification (queued after the escalation committed)."""
    return notifications.deliver(notification_id)


def tick() -> dict[str, int]:
    """Cascade overdue escalations, retry failed sends, raise overdue flags."""
    now = timezone.now()
    cascaded = escalation.cascade_due(now)
    retries = notifications.due_ids(now)
    if retries:
        escalation.enqueue_deliveries(retries)
    overdue = recording.scan_overdue(now)
    summary = {"cascaded": cascaded, "retried": len(retries), "overdue_flags": overdue}
    if any(summary.values()):
        log.warning("escalation tick: %s", summary)
    return summary
