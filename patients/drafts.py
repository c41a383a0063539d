"""Rounds being typed, kept on the server until saved, discarded or stale."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone

from .models import RoundDraft

# A draft older than a shift is not offered again: its observations are
# out of date and its time would mislead.
DRAFT_KEEP = timedelta(hours=12)
NOT_KEPT = {"csrfmiddlewaretoken"}


def save_draft(user, patient_id: int, data: QueryDict) -> None:
    kept = {k: data.getlist(k) for k in data if k not in NOT_KEPT}
    # Stale drafts (anyone's) go as new ones come: none outlives a shift.
    RoundDraft.objects.filter(updated_at__lt=timezone.now() - DRAFT_KEEP).delete()
    RoundDraft.objects.update_or_create(user=user, patient_id=patient_id, defaults={"data": kept})


def current_draft(user, patient_id: int) -> RoundDraft | None:
    draft = RoundDraft.objects.filter(user=user, patient_id=patient_id).first()
    if draft and timezone.now() - draft.updated_at > DRAFT_KEEP:
        draft.delete()
        return None
    return draft


def discard_draft(user, patient_id: int) -> None:
    RoundDraft.objects.filter(user=user, patient_id=patient_id).delete()


def draft_initial(draft: RoundDraft, form_class: type[forms.Form]) -> dict[str, Any]:
    """Return the draft as a form's initial values (lists only where the field takes many)."""
    fields = form_class().fields
    initial = {}
    for name, values in draft.data.items():
        field = fields.get(name)
        if isinstance(field, forms.MultipleChoiceField):
            initial[name] = values
        elif values:
            initial[name] = values[-1]
    return initial
