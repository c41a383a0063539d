"""Every page's query string under hostile values: a 4xx or a page, never a 500.

Runs on SQLite and on PostgreSQL (which refuses NUL in text and integers
beyond 64 bits, where SQLite shrugs).
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import User

from .conftest import make_user
from .test_access import ALL, url_for, world  # noqa: F401  (fixture)

HOSTILE = {
    "nul": "a\x00b",
    "cr-lf": "x\r\nSet-Cookie: stolen=1",
    "bidi": "Haem\u202eA\u2066",
    "10 KB": "W" * 10_240,
    "huge integer": "9" * 400,
    "negative huge integer": "-" + "9" * 30,
    "overflowing float": "1e999",
}
# Every parameter any page reads, plus the admin's own (search, ordering,
# paging, popups, filters).
PARAMETERS = [
    "page",
    "q",
    "ward",
    "severity",
    "action",
    "user",
    "next",
    "o",
    "p",
    "e",
    "_popup",
    "_to_field",
    "status__exact",
    "state__exact",
    "action__exact",
    "ward__exact",
    "kind__exact",
    "from",
    "to",
]
ROLE_FOR = {"audit_log": "admin", "password_change": "nurse"}


def admin_pages() -> list[str]:
    return [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin.site._registry
    ]


def superuser() -> User:
    root = make_user("root", None)
    root.is_superuser = root.is_staff = True
    root.save()
    return root


def expect_no_server_error(response, what: str) -> None:
    assert response.status_code < 500, (what, response.status_code)
    if response.status_code in {301, 302}:
        assert "\n" not in response["Location"] and "\r" not in response["Location"]


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize(("name", "converters"), ALL, ids=[n for n, _ in ALL])
def test_no_page_fails_on_a_hostile_query_string(
    client,
    world,  # noqa: F811
    name,
    converters,
    value,  # noqa: F811
) -> None:
    if name in {"logout", "flag_acknowledge", "flag_resolve"}:
        return  # POST only: their query strings are never read
    if name not in {"login", "healthz"}:
        client.force_login(make_user("user-x", ROLE_FOR.get(name, "clinician")))
    params = dict.fromkeys(PARAMETERS, value)
    url = url_for(name, converters, world)
    expect_no_server_error(client.get(url, params), url)
    expect_no_server_error(client.get(url, params, HTTP_HX_REQUEST="true"), url)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_no_admin_page_fails_on_a_hostile_query_string(client, world, value) -> None:  # noqa: F811
    client.force_login(superuser())
    for page in admin_pages():
        for name in PARAMETERS:
            expect_no_server_error(client.get(page, {name: value}), f"{page}?{name}")
