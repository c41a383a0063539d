"""The clinicians' download of the programme's episode summaries (CSV)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from .episode_export import RangeError, episode_csv_lines, parse_range
from .programme_views import product_choices
from .recording import audit
from .security import client_address

# Clinicians (the programme page's readers): record access and the ledger.
PERMISSIONS = ("patients.view_patient", "patients.add_intervention")
DEFAULT_RANGE = timedelta(days=365)


@permission_required(PERMISSIONS, raise_exception=True)
@require_safe
def episodes_csv(request: HttpRequest) -> HttpResponse:
    """Stream the episodes with their onset from ``from`` to ``to`` as CSV
    (both dates inclusive; without either, the last year to today), of one
    product when ``product`` names one (the programme page's filter)."""
    given = {k: request.GET.get(k) for k in ("from", "to")}
    if not any(given.values()):
        today = timezone.localdate()
        given = {"from": (today - DEFAULT_RANGE).isoformat(), "to": today.isoformat()}
    product = request.GET.get("product", "")
    try:
        start, end = parse_range(given["from"], given["to"])
        if product not in dict(product_choices()):
            raise RangeError(f"product: {product[:40]!r} is not a product of the catalogue")
    except RangeError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    audit(
        request.user,
        "episodes_exported",
        request.user,
        None,
        client_address(request),
        start=start.isoformat(),
        end=end.isoformat(),
        **({"product": product} if product else {}),
    )
    response = StreamingHttpResponse(
        episode_csv_lines(start, end, product=product), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="episodes-{start}-{end}.csv"'
    return response
