"""A user's permissions are kept in the cache between requests, and a change
of role or of a role's permissions applies on the very next request."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.models import PermissionsChange


def give_treatment_page(client, patient) -> int:
    return client.get(reverse("intervention_create", args=[patient.pk])).status_code


def permission_reads(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return sum("auth_permission" in q["sql"] for q in ctx.captured_queries)


def test_a_page_reads_permissions_once_then_from_the_cache(nurse_client, patient):
    url = reverse("patient", args=[patient.pk])
    assert permission_reads(nurse_client, url) > 0
    assert permission_reads(nurse_client, url) == 0
    assert permission_reads(nurse_client, reverse("queue")) == 0


def test_joining_and_leaving_a_role_applies_on_the_next_request(nurse_client, nurse, patient):
    assert give_treatment_page(nurse_client, patient) == 403
    clinicians = Group.objects.get(name="clinician")
    nurse.groups.add(clinicians)
    assert give_treatment_page(nurse_client, patient) == 200
    nurse.groups.remove(clinicians)
    assert give_treatment_page(nurse_client, patient) == 403
    # From the role's side too.
    clinicians.user_set.add(nurse)
    assert give_treatment_page(nurse_client, patient) == 200
    clinicians.user_set.clear()
    assert give_treatment_page(nurse_client, patient) == 403


def test_a_change_to_a_roles_permissions_applies_on_the_next_request(clinician_client, patient):
    assert give_treatment_page(clinician_client, patient) == 200
    clinicians = Group.objects.get(name="clinician")
    give = Permission.objects.get(codename="add_intervention")
    clinicians.permissions.remove(give)
    assert give_treatment_page(clinician_client, patient) == 403
    clinicians.permissions.add(give)
    assert give_treatment_page(clinician_client, patient) == 200


def test_deleting_a_role_applies_on_the_next_request(clinician_client, patient):
    assert give_treatment_page(clinician_client, patient) == 200
    Group.objects.get(name="clinician").delete()
    assert give_treatment_page(clinician_client, patient) == 403


def test_the_change_stamp_is_read_from_the_database_with_the_user(
    clinician_client, clinician, patient
):
    """Another app server keeps its own cache: what tells each server that
    roles changed is the stamp in the database, read on every request."""
    assert give_treatment_page(clinician_client, patient) == 200
    with connection.cursor() as cursor:
        # A raw change, as a script might make: no signal records it.
        cursor.execute("DELETE FROM auth_user_groups WHERE user_id = %s", [clinician.pk])
    assert give_treatment_page(clinician_client, patient) == 200  # the set kept in the cache
    PermissionsChange.record()  # what every change through Django does
    assert give_treatment_page(clinician_client, patient) == 403


def test_the_change_stamp_is_new_at_each_change(nurse):
    before = PermissionsChange.objects.get(pk=PermissionsChange.ROW).stamp
    nurse.groups.add(Group.objects.get(name="clinician"))
    after = PermissionsChange.objects.get(pk=PermissionsChange.ROW).stamp
    assert after != before


def test_a_session_begun_before_the_cached_backend_still_works(client, clinician, patient):
    client.force_login(clinician, backend="django.contrib.auth.backends.ModelBackend")
    assert give_treatment_page(client, patient) == 200
