"""Sending escalation notifications: e-mail over SMTP and signed webhooks.

Runs in the worker only. A notification is claimed by a conditional UPDATE
before anything is sent, so two workers handed the same job send once; a
worker that dies mid-send leaves a claim that expires, and the message is
tried again (its ``attempt`` number tells the receiver).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
from datetime import datetime, timedelta
from http.client import HTTPConnection, HTTPSConnection
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import Notification, NotificationAttempt, NotificationState

SIGNATURE_HEADER = "X-CRS-Watch-Signature"
# Longer than the SMTP and HTTP time-outs, so a live claim is never taken over.
CLAIM_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10


def sign(body: bytes, secret: str) -> str:
    """Return the signature header value for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def retry_delay(attempts: int) -> timedelta:
    """Return the wait after the ``attempts``-th failure: 1, 2, 4, 8 ... minutes."""
    base = settings.CRS_WATCH["NOTIFY_RETRY_SECONDS"]
    return timedelta(seconds=base * 2 ** max(attempts - 1, 0))


def ready(now: datetime) -> Q:
    return Q(state=NotificationState.PENDING, next_attempt_at__lte=now) | Q(
        state=NotificationState.SENDING, claimed_until__lt=now
    )


def claim(pk: int, now: datetime) -> Notification | None:
    """Take the notification for this worker, or return None if another has it."""
    taken = (
        Notification.objects.filter(ready(now), pk=pk)
        .exclude(state__in=[NotificationState.SENT, NotificationState.FAILED])
        .update(
            state=NotificationState.SENDING,
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
            attempts=F("attempts") + 1,
        )
    )
    if not taken:
        return None
    return Notification.objects.select_related(
        "contact", "step__escalation__patient", "step__escalation"
    ).get(pk=pk)


def payload(note: Notification) -> dict[str, Any]:
    """Return the webhook body (the interface receivers script against)."""
    step = note.step
    esc = step.escalation
    cascaded = esc.steps.filter(position__lt=step.position).exists()
    body: dict[str, Any] = {
        "event": "escalation.cascaded" if cascaded else "escalation.opened",
        "escalation_id": esc.pk,
        "tier": step.tier_name,
        "attempt": note.attempts,
        "ward": esc.ward,
        "bed": esc.bed,
        "trigger": {
            "kind": esc.trigger_kind,
            "severity": esc.trigger_severity,
            "title": esc.trigger_title,
        },
        "opened_at": esc.opened_at.isoformat(),
        "url": settings.CRS_WATCH["BASE_URL"] + reverse("patient", args=[esc.patient_id]),
        "respond_by": step.due_at.isoformat(),
    }
    if note.contact.include_identity:
        body["patient"] = {"mrn": esc.patient.mrn, "name": esc.patient.name}
    return body


class ReceiverError(Exception):
    """The receiver answered, but not with success."""


def send_webhook(note: Notification) -> str:
    """POST the signed JSON body; return the outcome or raise ReceiverError."""
    body = json.dumps(payload(note), separators=(",", ":")).encode()
    url = urlsplit(note.address)
    connection_class = HTTPSConnection if url.scheme == "https" else HTTPConnection
    connection = connection_class(url.hostname, url.port, timeout=HTTP_TIMEOUT_SECONDS)
    try:
        # http.client keeps the header names exactly as documented.
        connection.request(
            "POST",
            (url.path or "/") + (f"?{url.query}" if url.query else ""),
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "CRS-Watch",
                SIGNATURE_HEADER: sign(body, note.contact.secret),
            },
        )
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    outcome = f"HTTP {response.status} {response.reason}".strip()
    if not 200 <= response.status < 300:
        raise ReceiverError(outcome)
    return outcome


def send_email(note: Notification) -> str:
    context = {"note": note, "esc": note.step.escalation, "step": note.step, **payload(note)}
    subject = " ".join(render_to_string("patients/email/escalation_subject.txt", context).split())
    text = render_to_string("patients/email/escalation_body.txt", context)
    sent = EmailMessage(subject, text, to=[note.address]).send()
    return "accepted by the mail server" if sent else "not accepted"


def deliver(pk: int, now: datetime | None = None) -> bool:
    """Send one notification if it is due and unclaimed; store the attempt."""
    now = now or timezone.now()
    note = claim(pk, now)
    if note is None:
        return False
    started = timezone.now()
    try:
        outcome = send_webhook(note) if note.channel == "webhook" else send_email(note)
        ok = True
    except ReceiverError as error:
        outcome, ok = str(error), False
    except Exception as error:  # noqa: BLE001 - any failure is stored and retried
        outcome, ok = f"{type(error).__name__}: {error}", False
    finished = timezone.now()
    NotificationAttempt.objects.create(
        notification=note,
        number=note.attempts,
        started_at=started,
        finished_at=finished,
        ok=ok,
        outcome=outcome[:500],
        worker=f"{socket.gethostname()}:{os.getpid()}"[:100],
    )
    if ok:
        note.state = NotificationState.SENT
        note.sent_at = finished
    elif note.attempts >= settings.CRS_WATCH["NOTIFY_MAX_ATTEMPTS"]:
        note.state = NotificationState.FAILED
    else:
        note.state = NotificationState.PENDING
        note.next_attempt_at = now + retry_delay(note.attempts)
    note.claimed_until = None
    note.save(update_fields=["state", "sent_at", "next_attempt_at", "claimed_until"])
    return ok


def due_ids(now: datetime) -> list[int]:
    return list(
        Notification.objects.filter(ready(now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
