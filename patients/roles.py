"""The three roles and what each may do; created by a data migration."""

from __future__ import annotations

# Roles that open patient records; never self-granted (see admin.py).
CLINICAL_ROLES = {"nurse", "clinician"}

ROLES = {
    "nurse": [
        "patients.view_patient",
        "patients.add_patient",
        "patients.add_observationround",
        "patients.view_flag",
        "patients.add_flag",
        "patients.view_escalation",
        "patients.add_bedsiderecord",
    ],
    "clinician": [
        "patients.view_patient",
        "patients.add_patient",
        "patients.add_observationround",
        "patients.view_flag",
        "patients.change_flag",
        "patients.add_intervention",
        "patients.correct_record",
        "patients.add_flag",
        "patients.view_escalation",
        "patients.add_bedsiderecord",
    ],
    "admin": [
        "patients.view_auditevent",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
        "patients.view_servicetoken",
        "patients.add_servicetoken",
        "patients.change_servicetoken",
        "patients.view_escalation",
        "patients.view_escalationtier",
        "patients.add_escalationtier",
        "patients.change_escalationtier",
        "patients.view_escalationtrigger",
        "patients.add_escalationtrigger",
        "patients.change_escalationtrigger",
        "patients.view_escalationcontact",
        "patients.add_escalationcontact",
        "patients.change_escalationcontact",
    ],
}


def ensure_roles(group_model, permission_model) -> None:
    """Create the role groups with their permissions (idempotent)."""
    for role, perms in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            permission = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            # An early migration runs before later models (and their
            # permissions) exist; the migration that adds them adds these.
            if permission is not None:
                group.permissions.add(permission)


def migrate_roles(apps, schema_editor) -> None:
    """Data migration: create missing permissions, then grant the roles'."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrations; make sure they exist.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    ensure_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))
