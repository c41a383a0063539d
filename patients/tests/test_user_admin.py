"""User administration: the admin role manages accounts, never its own rights."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from patients import recording
from patients.models import AuditEvent

from .conftest import PASSWORD, ago, make_user

ADDRESS = "10.20.30.40"


def change_url(user: User) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


def form_for(user: User, **changes) -> dict:
    """Return the admin change form for ``user`` as a browser would post it."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "groups": [str(g.pk) for g in user.groups.all()],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "08:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "08:00:00",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v not in ("", None)}


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_admin_role_cannot_make_itself_superuser_or_clinician(admin_client, admin_user) -> None:
    clinician = Group.objects.get(name="clinician")
    response = admin_client.post(
        change_url(admin_user),
        form_for(
            admin_user,
            is_superuser="on",
            groups=[str(g.pk) for g in admin_user.groups.all()] + [str(clinician.pk)],
        ),
    )
    assert response.status_code in {200, 302}
    admin_user.refresh_from_db()
    assert not admin_user.is_superuser
    assert list(admin_user.groups.values_list("name", flat=True)) == ["admin"]
    assert not admin_user.has_perm("patients.view_patient")


def test_admin_role_cannot_grant_superuser_to_anyone(admin_client, nurse) -> None:
    admin_client.post(change_url(nurse), form_for(nurse, is_superuser="on"))
    nurse.refresh_from_db()
    assert not nurse.is_superuser


def test_admin_role_cannot_take_over_a_superuser_by_resetting_its_password(
    admin_client,
) -> None:
    root = User.objects.create_superuser("root", password=PASSWORD)
    url = reverse("admin:auth_user_password_change", args=[root.pk])
    response = admin_client.post(
        url, {"password1": "a-new-secret-value-77", "password2": "a-new-secret-value-77"}
    )
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.check_password(PASSWORD)


def test_role_changes_renames_and_deactivations_are_audited(
    admin_client, admin_user, nurse
) -> None:
    clinician = Group.objects.get(name="clinician")
    response = admin_client.post(
        change_url(nurse),
        form_for(nurse, username="nina.b", groups=[str(clinician.pk)], is_active=""),
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 302
    renamed = events("user_renamed")[-1]
    assert (renamed.user, renamed.address) == (admin_user, ADDRESS)
    assert (renamed.detail["from"], renamed.detail["to"]) == ("nina", "nina.b")
    roles = events("user_roles_changed")[-1]
    assert roles.detail["granted"] == ["clinician"] and roles.detail["removed"] == ["nurse"]
    assert roles.detail["clinical_role_granted"] is True
    assert events("user_deactivated")[-1].object_id == str(nurse.pk)


def test_password_reset_by_an_admin_is_audited(admin_client, admin_user, nurse) -> None:
    url = reverse("admin:auth_user_password_change", args=[nurse.pk])
    response = admin_client.post(
        url,
        {
            "password1": "a-new-secret-value-77",
            "password2": "a-new-secret-value-77",
            "set_usable_password": "true",
        },
    )
    assert response.status_code == 302
    event = events("user_password_reset")[-1]
    assert (event.user, event.object_id) == (admin_user, str(nurse.pk))


def test_admin_role_unlocks_a_locked_out_account_and_it_is_audited(
    client, admin_user, nurse
) -> None:
    for _ in range(5):
        client.post(reverse("login"), {"username": "nina", "password": "wrong"})
    locked = client.post(reverse("login"), {"username": "nina", "password": PASSWORD})
    assert locked.status_code == 429
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "unlock_accounts", "_selected_action": [str(nurse.pk)]},
    )
    assert response.status_code == 302
    assert events("account_unlocked")[-1].detail["username"] == "nina"
    client.logout()
    ok = client.post(reverse("login"), {"username": "nina", "password": PASSWORD})
    assert ok.status_code == 302 and ok["Location"] == reverse("queue")


def test_renaming_a_user_keeps_the_name_on_past_records(
    admin_client, admin_user, nurse, clinician, patient
) -> None:
    recording.record_round(
        patient, {"clinical_time": ago(hours=1), "heart_rate": 80}, nurse, uuid.uuid4()
    )
    admin_client.post(change_url(nurse), form_for(nurse, username="someone.else"))
    nurse.refresh_from_db()
    assert nurse.username == "someone.else"
    admin_client.logout()
    admin_client.force_login(clinician)
    page = admin_client.get(patient.get_absolute_url()).content.decode()
    assert "nina" in page and "someone.else" not in page
    csv_body = b"".join(
        admin_client.get(reverse("rounds_csv", args=[patient.pk])).streaming_content
    ).decode()
    assert ',"nina",' in csv_body
    recorded = AuditEvent.objects.get(action="round_recorded")
    assert recorded.user_name == "nina"


def test_nobody_deletes_a_user_account(client, db) -> None:
    root = User.objects.create_superuser("root", password=PASSWORD)
    victim = make_user("victim", "nurse")
    client.force_login(root)
    assert client.get(reverse("admin:auth_user_delete", args=[victim.pk])).status_code == 403


def test_admin_views_of_clinical_rows_are_audited(client, patient) -> None:
    root = User.objects.create_superuser("root", password=PASSWORD)
    client.force_login(root)
    assert client.get(reverse("admin:patients_patient_changelist")).status_code == 200
    assert (
        client.get(reverse("admin:patients_patient_change", args=[patient.pk])).status_code == 200
    )
    assert events("admin_list_viewed")[-1].object_type == "Patient"
    viewed = events("admin_record_viewed")[-1]
    assert (viewed.user, viewed.patient) == (root, patient)
