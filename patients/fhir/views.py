"""FHIR REST endpoints: bearer-token service accounts, audited.

Every answer is FHIR JSON; every failure is an OperationOutcome, never an
HTML error page, so an interface engine can log what went wrong.
"""

from __future__ import annotations

import json
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .. import recording
from ..models import Patient
from . import ingest
from .export import RecordExport, everything, mrn_system
from .tokens import authenticate

FHIR_JSON = "application/fhir+json; charset=utf-8"


def address(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def fhir_response(body: dict[str, Any], status: int = 200, **headers: str) -> JsonResponse:
    response = JsonResponse(body, status=status, content_type=FHIR_JSON)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def outcome(status: int, code: str, diagnostics: str, **headers: str) -> JsonResponse:
    return fhir_response(
        ingest.operation_outcome([ingest.Issue(code, diagnostics)]), status, **headers
    )


def fhir_endpoint(scope: str, sessions: bool = False):
    """Authenticate a FHIR request by bearer token with ``scope``.

    With ``sessions`` a signed-in clinical user (view_patient) may read too.
    Sets ``request.fhir_token`` (None for a session) and ``request.fhir_user``.
    """

    def decorate(view):
        @login_not_required
        @csrf_exempt
        @never_cache
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            header = request.headers.get("Authorization", "")
            if header:
                token = authenticate(header)
                if token is None:
                    return outcome(
                        401,
                        "login",
                        "The bearer token is unknown or revoked.",
                        WWW_Authenticate='Bearer error="invalid_token"',
                    )
                if not (token.can_read if scope == "read" else token.can_write):
                    return outcome(
                        403,
                        "forbidden",
                        f"This token may not {scope}.",
                        WWW_Authenticate=f'Bearer error="insufficient_scope", scope="{scope}"',
                    )
                request.fhir_token, request.fhir_user = token, token.account
            elif (
                sessions
                and request.user.is_authenticated
                and request.user.has_perm("patients.view_patient")
            ):
                request.fhir_token, request.fhir_user = None, request.user
            elif sessions and request.user.is_authenticated:
                return outcome(403, "forbidden", "Your role may not read patient records.")
            else:
                return outcome(
                    401,
                    "login",
                    "Send a service-account bearer token (Authorization: Bearer ...).",
                    WWW_Authenticate="Bearer",
                )
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def audit(request: HttpRequest, action: str, obj, patient: Patient | None, **detail) -> None:
    token = request.fhir_token
    if token is not None:
        detail["token"] = token.name
    recording.audit(request.fhir_user, action, obj, patient, address(request), **detail)


def fhir_base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/")


@require_GET
@fhir_endpoint("read", sessions=True)
def patient_everything(request: HttpRequest, pk: str) -> JsonResponse:
    valid = pk.isascii() and pk.isdigit() and len(pk) <= 18
    patient = Patient.objects.filter(pk=int(pk)).first() if valid else None
    if patient is None:
        return outcome(404, "not-found", f"No Patient with id {pk[:40]!r}.")
    audit(request, "fhir_read", patient, patient, interaction="$everything")
    return fhir_response(everything(patient, fhir_base(request)))


@require_GET
@fhir_endpoint("read")
def patient_search(request: HttpRequest) -> JsonResponse:
    """Search Patient by ``identifier=[system|]value`` (the MRN)."""
    raw = request.GET.get("identifier", "")
    if not raw or len(raw) > 300 or "\x00" in raw:
        return outcome(400, "required", "Search by identifier=[system|]MRN.")
    system, bar, value = raw.rpartition("|")
    matches = []
    if not bar or system == mrn_system() or system == "":
        matches = list(Patient.objects.filter(mrn=value))
    base = fhir_base(request).rstrip("/")
    entries = [
        {
            "fullUrl": f"{base}/Patient/{p.pk}",
            "resource": RecordExport(p).patient_resource(),
            "search": {"mode": "match"},
        }
        for p in matches
    ]
    for p in matches:
        audit(request, "fhir_read", p, p, interaction="search")
    if not matches:
        audit(request, "fhir_read", request.fhir_user, None, interaction="search", found=0)
    return fhir_response(
        {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}
    )


@require_POST
@fhir_endpoint("write")
def bundle_post(request: HttpRequest) -> JsonResponse:
    try:
        raw = request.body
        # No database stores NUL in text: refuse it before it gets that far.
        if b"\x00" in raw or b"\\u0000" in raw:
            return outcome(400, "invalid", "NUL characters are not accepted.")
        body = json.loads(raw)
    except RequestDataTooBig:
        return outcome(413, "too-costly", "The Bundle is too large: send fewer rounds at once.")
    except (ValueError, UnicodeDecodeError):
        return outcome(400, "structure", "The body is not JSON.")
    result = ingest.ingest_bundle(body, request.fhir_token, address(request))
    return fhir_response(result.body, result.status)
