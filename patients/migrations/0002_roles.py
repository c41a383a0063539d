"""Create the three roles and what each may do."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "nurse": [
        "patients.view_patient",
        "patients.add_patient",
        "patients.add_observationround",
        "patients.view_flag",
    ],
    "clinician": [
        "patients.view_patient",
        "patients.add_patient",
        "patients.add_observationround",
        "patients.view_flag",
        "patients.change_flag",
        "patients.add_intervention",
        "patients.correct_record",
    ],
    "admin": [
        "patients.view_auditevent",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after migrations; make sure they exist.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
