"""The admin role's page for service-account tokens (FHIR access)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .. import recording
from ..models import ServiceToken
from .tokens import TokenError, create_token


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=60, help_text="The system using it, e.g. ward-monitors"
    )
    read_only = forms.BooleanField(label="Read only (no writes)", required=False)
    source = forms.ChoiceField(
        label="Rounds it sends show as",
        choices=ServiceToken.Source.choices,
        initial=ServiceToken.Source.EHR,
    )


class RevokeForm(forms.Form):
    name = forms.CharField(max_length=60)


def address(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


@permission_required("patients.view_servicetoken", raise_exception=True)
@require_http_methods(["GET", "POST"])
@never_cache
def service_tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    secret = None
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("patients.add_servicetoken"):
            return HttpResponse(status=403)
        if form.is_valid():
            try:
                token, secret = create_token(
                    form.cleaned_data["name"],
                    read_only=form.cleaned_data["read_only"],
                    source=form.cleaned_data["source"],
                    by=request.user,
                )
            except TokenError as error:
                form.add_error("name", str(error))
            else:
                recording.audit(
                    request.user,
                    "fhir_token_created",
                    token,
                    None,
                    address(request),
                    scopes=token.scopes,
                )
                form = TokenForm()
        status = 200 if secret else 422
    tokens = ServiceToken.objects.select_related("created_by", "revoked_by")
    return render(
        request,
        "patients/service_tokens.html",
        {"form": form, "tokens": tokens, "secret": secret},
        status=status,
    )


@permission_required("patients.change_servicetoken", raise_exception=True)
@require_POST
def service_token_revoke(request: HttpRequest) -> HttpResponse:
    form = RevokeForm(request.POST)
    name = form.cleaned_data["name"] if form.is_valid() else ""
    tokens = list(ServiceToken.objects.filter(name=name, revoked_at__isnull=True))
    for token in tokens:
        token.revoke(request.user)
        recording.audit(request.user, "fhir_token_revoked", token, None, address(request))
    if tokens:
        messages.success(request, f"Revoked the token {name!r}: it no longer works.")
    else:
        messages.error(request, "No active token of that name.")
    return redirect("service_tokens")
