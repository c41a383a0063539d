"""Default escalation policy (RCP NEWS2 chart 4 wording), roles, schedule.

The response minutes are local defaults nobody has confirmed: the product
shows them so until the hospital loads or edits its own policy.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from patients.roles import ensure_roles

NEWS2 = "RCP NEWS2 (2017) chart 4"
LOCAL = "Local default (DERIVED): no cited source sets the tier"
TIERS = [
    ("ward", "Nurse in charge", 1, 30),
    ("team", "Responsible medical team", 2, 30),
    ("outreach", "Critical-care outreach", 3, 15),
]
TRIGGERS = [
    ("news2:red-score", "team", f"{NEWS2}: a score of 3 in one parameter: the nurse informs the medical team, who review and decide on escalation"),
    ("news2:medium", "team", f"{NEWS2}: NEWS2 5-6: the nurse immediately informs the medical team; urgent assessment by a clinician with acute-care competencies"),
    ("news2:high", "outreach", f"{NEWS2}: NEWS2 7 or more: the nurse immediately informs the medical team; emergency assessment by a critical-care team"),
    ("flag:red_flag:urgent", "team", "Source article: difficulty breathing, confusion or a change in heart rate or function needs immediate attention. " + LOCAL),
    ("crs>=2", "team", "ASTCT 2019 CRS grade 2 or more. " + LOCAL),
    ("icans>=2", "team", "ASTCT 2019 ICANS grade 2 or more. " + LOCAL),
    ("concern", "team", "A nurse is worried about the patient. " + LOCAL),
]


def defaults(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    ensure_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))

    Tier = apps.get_model("patients", "EscalationTier")
    Trigger = apps.get_model("patients", "EscalationTrigger")
    if not Tier.objects.exists():
        tiers = {
            name: Tier.objects.create(name=name, label=label, position=position, minutes=minutes)
            for name, label, position, minutes in TIERS
        }
        for on, tier, basis in TRIGGERS:
            Trigger.objects.create(on=on, tier=tiers[tier], basis=basis)

    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="escalation-tick",
        defaults={
            "func": "patients.jobs.tick",
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0010_escalation"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(defaults, migrations.RunPython.noop)]
