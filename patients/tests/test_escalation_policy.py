"""The escalation policy file: loads as documented, idempotent, audited."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from patients.escalation import trigger_error
from patients.models import AuditEvent, EscalationContact, EscalationTier, EscalationTrigger
from patients.policy import PolicyError, load

pytestmark = pytest.mark.django_db

# Exactly as hospitals were told it must load.
ISSUE_EXAMPLE = """\
[[tiers]]            # in cascade order
name = "ward"
minutes = 30         # respond within
[[tiers]]
name = "team"
minutes = 15
[[triggers]]
on = "news2:high"    # news2:low-medium|medium|high|red-score, crs>=N, icans>=N, flag:KIND:SEVERITY, concern
tier = "team"
[[contacts]]
ward = "*"           # a ward, or * for every ward
tier = "team"
email = "haem-registrar@example.org"        # optional
webhook = "https://bridge.example.org/hook" # optional; needs secret
secret = "a-shared-secret"
"""


def active(model):
    return model.objects.filter(active=True)


def test_it_loads_the_documented_example_as_written(tmp_path, capsys) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(ISSUE_EXAMPLE)
    call_command("load_escalation_policy", str(path))
    tiers = list(active(EscalationTier).values_list("name", "minutes", "position"))
    assert tiers == [("ward", 30, 1), ("team", 15, 2)]
    assert list(active(EscalationTrigger).values_list("on", "tier__name")) == [
        ("news2:high", "team")
    ]
    contact = active(EscalationContact).get()
    assert (contact.ward, contact.tier.name, contact.email, contact.webhook, contact.secret) == (
        "*",
        "team",
        "haem-registrar@example.org",
        "https://bridge.example.org/hook",
        "a-shared-secret",
    )
    assert all(active(EscalationTier).values_list("minutes_confirmed", flat=True))
    event = AuditEvent.objects.filter(action="escalation_policy_loaded").get()
    assert event.detail["file"] == str(path)
    assert "a-shared-secret" not in str(event.detail)


def test_loading_the_same_file_twice_changes_nothing_but_is_audited(tmp_path, capsys) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(ISSUE_EXAMPLE)
    call_command("load_escalation_policy", str(path))
    before = list(EscalationContact.objects.values())
    call_command("load_escalation_policy", str(path))
    assert "no changes" in capsys.readouterr().out
    assert list(EscalationContact.objects.values()) == before
    assert AuditEvent.objects.filter(action="escalation_policy_loaded").count() == 2


def test_the_file_is_the_whole_policy_what_it_drops_is_switched_off_not_deleted() -> None:
    load(ISSUE_EXAMPLE, "a.toml")
    smaller = ISSUE_EXAMPLE.split("[[contacts]]")[0]
    result = load(smaller, "b.toml")
    assert active(EscalationContact).count() == 0
    assert EscalationContact.objects.count() == 1
    assert any("contact" in change for change in result.changes)
    # The shipped defaults the file does not name are off too.
    assert set(active(EscalationTrigger).values_list("on", flat=True)) == {"news2:high"}


def test_each_problem_is_reported_with_its_line() -> None:
    bad = (
        ISSUE_EXAMPLE.replace('on = "news2:high"', 'on = "news2:extreme"')
        .replace("minutes = 15", 'minutes = "15"')
        .replace('secret = "a-shared-secret"', "")
    )
    with pytest.raises(PolicyError) as caught:
        load(bad, "p.toml")
    assert caught.value.problems == ["p.toml:6: tiers.minutes must be a whole number"]
    bad = bad.replace('minutes = "15"', "minutes = 15")
    with pytest.raises(PolicyError) as caught:
        load(bad, "p.toml")
    problems = caught.value.problems
    assert problems[0].startswith("p.toml:8: unknown NEWS2 trigger 'news2:extreme'")
    assert problems[1].startswith("p.toml:14: a webhook needs secret")
    assert not EscalationTier.objects.filter(name="team", minutes=15).exists()


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("[[tiers]]\nname = 'a'\nminutes = 0\n", 3, "between 1 and 1440"),
        ("[[tiers]]\nname = 'a'\nminutes = 5\ncolour = 'red'\n", 4, "unknown key 'colour'"),
        ("[[tiers]]\nname = 'a'\n", 1, "needs minutes"),
        ("[[tiers]]\nname = 'a'\nminutes = 5\n[[tiers]]\nname = 'a'\nminutes = 5\n", 5, "twice"),
        ("[[tiers]]\nname = 'a'\nminutes = 5\n[[triggers]]\non = 'x'\ntier = 'a'\n", 5, "unknown"),
        (
            "[[tiers]]\nname = 'a'\nminutes = 5\n[[contacts]]\nward = '*'\ntier = 'a'\n",
            4,
            "needs an email or a webhook",
        ),
        (
            "[[tiers]]\nname = 'a'\nminutes = 5\n[[contacts]]\nward = '*'\ntier = 'a'\n"
            "email = 'not-an-address'\n",
            7,
            "not an e-mail address",
        ),
        ("[[tiers]]\nname = 'a'\nminutes = 5\n[oops\n", 4, "not valid TOML"),
    ],
)
def test_bad_files_are_refused_naming_the_line(text, line, words) -> None:
    with pytest.raises(PolicyError) as caught:
        load(text, "f.toml")
    message = "\n".join(caught.value.problems)
    assert words in message
    assert f"f.toml:{line}" in message or (words == "not valid TOML" and f"line {line}" in message)


def test_the_command_exits_with_an_error_and_loads_nothing_from_a_bad_file(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(ISSUE_EXAMPLE.replace('tier = "team"\nemail', 'tier = "tea"\nemail'))
    with pytest.raises(CommandError, match="not loaded"):
        call_command("load_escalation_policy", str(path))
    assert not EscalationContact.objects.exists()


@pytest.mark.parametrize(
    ("on", "valid"),
    [
        ("news2:low-medium", True),
        ("news2:medium", True),
        ("news2:high", True),
        ("news2:red-score", True),
        ("news2:low", False),
        ("crs>=2", True),
        ("icans>=4", True),
        ("crs>=5", False),
        ("crs>2", False),
        ("flag:red_flag:urgent", True),
        ("flag:overdue:high", True),
        ("flag:concern:high", True),
        ("flag:worsening:critical", False),
        ("flag:nonsense:high", False),
        ("concern", True),
    ],
)
def test_trigger_grammar(on, valid) -> None:
    assert (trigger_error(on) is None) is valid


def test_the_admin_role_edits_the_policy_in_the_product_and_each_change_is_audited(
    client, admin_user
) -> None:
    client.force_login(admin_user)
    team = EscalationTier.objects.get(name="team")
    url = "/admin/patients/escalationcontact/add/"
    form = {"ward": "Haem A", "tier": team.pk, "webhook": "https://pager.example.org/in"}
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert "A webhook needs a secret" in refused.content.decode()
    response = client.post(url, {**form, "secret": "s3cret", "active": "on"})
    assert response.status_code == 302
    contact = EscalationContact.objects.get(ward="Haem A")
    assert contact.secret == "s3cret"
    event = AuditEvent.objects.get(action="escalation_policy_changed")
    assert event.user == admin_user
    assert "s3cret" not in str(event.detail)
    # The secret is never shown back.
    page = client.get(f"/admin/patients/escalationcontact/{contact.pk}/change/")
    assert "s3cret" not in page.content.decode()
    bad = client.post(
        "/admin/patients/escalationtrigger/add/", {"on": "news2:extreme", "tier": team.pk}
    )
    assert "unknown NEWS2 trigger" in bad.content.decode()


def test_clinical_roles_cannot_edit_the_policy(nurse_client) -> None:
    assert nurse_client.get("/admin/patients/escalationcontact/add/").status_code in (302, 403)


def test_the_complete_example_in_the_readme_loads() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    load(example, "README.md")
    assert list(active(EscalationTier).values_list("name", flat=True)) == [
        "ward",
        "team",
        "outreach",
    ]
    assert active(EscalationContact).count() == 2
    assert EscalationTrigger.objects.get(on="news2:medium").minutes == 20
