"""The blank round form, rendered once per process and reused.

Its ~80 widgets cost more to render than the rest of the patient page; only
the patient's URL, the form's one-time key, the time and the CSRF token
differ between requests, so those are filled into a cached rendering.
"""

from __future__ import annotations

import uuid
from functools import cache

from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from .forms import RoundForm, local_now_input

PK = 987654321
KEY = "00000000-0000-4000-8000-00000000c0de"
TIME = "1999-09-09T09:09"
CSRF = "CSRF-PLACEHOLDER-VALUE"


class _Stub:
    pk = PK


@cache
def _rendered(inline: bool) -> str:
    form = RoundForm(initial={"client_key": KEY, "clinical_time": TIME})
    return render_to_string(
        "patients/round_form.html#round-form",
        {"patient": _Stub(), "round_form": form, "inline": inline, "csrf_token": CSRF},
    )


def blank_round_form(request, patient_pk: int, inline: bool = True) -> SafeString:
    html = (
        _rendered(inline)
        .replace(f"/patients/{PK}/", f"/patients/{int(patient_pk)}/")
        .replace(KEY, str(uuid.uuid4()))
        .replace(TIME, local_now_input())
        .replace(CSRF, get_token(request))
    )
    return mark_safe(html)  # noqa: S308 - the cached part was escaped when rendered
