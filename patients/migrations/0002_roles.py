"""Create the three roles and what each may do."""

from django.db import migrations

from patients.roles import migrate_roles


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(migrate_roles, migrations.RunPython.noop)]
