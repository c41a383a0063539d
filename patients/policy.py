"""Load a hospital's escalation policy from TOML (an interface hospitals script).

The file is the whole policy: tiers, triggers and contacts it does not name
are switched off (kept, since past escalations refer to them). Loading the
same file twice changes nothing. Every problem is reported with its line.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction

from .escalation import trigger_error
from .models import AuditEvent, EscalationContact, EscalationTier, EscalationTrigger

TABLES = {
    "tiers": {"name": str, "label": str, "minutes": int},
    "triggers": {"on": str, "tier": str, "minutes": int, "record_required": bool, "basis": str},
    "contacts": {
        "ward": str,
        "tier": str,
        "name": str,
        "email": str,
        "webhook": str,
        "secret": str,
        "include_identity": bool,
    },
}
REQUIRED = {"tiers": ("name", "minutes"), "triggers": ("on", "tier"), "contacts": ("ward", "tier")}
TYPE_WORDS = {str: "text in quotes", int: "a whole number", bool: "true or false"}
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z_]+)\s*\]\]")
KEY = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=")


class PolicyError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class LoadResult:
    changes: list[str] = field(default_factory=list)
    sha256: str = ""


def line_index(text: str) -> dict[tuple[str, int, str | None], int]:
    """Map (table, index, key or None) to its 1-based line in ``text``."""
    where: dict[tuple[str, int, str | None], int] = {}
    counts: dict[str, int] = {}
    current: tuple[str, int] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = HEADER.match(line)
        if header:
            name = header.group(1)
            counts[name] = counts.get(name, 0) + 1
            current = (name, counts[name] - 1)
            where[(*current, None)] = number
            continue
        key = KEY.match(line)
        if key and current:
            where.setdefault((*current, key.group(1)), number)
    return where


def parse(text: str, filename: str) -> dict[str, list[dict[str, Any]]]:
    """Return the validated tables, or raise PolicyError naming each line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError([f"{filename}: not valid TOML: {error}"]) from error
    lines = line_index(text)
    problems: list[str] = []

    def at(table: str, index: int, key: str | None = None) -> str:
        number = lines.get((table, index, key)) or lines.get((table, index, None))
        return f"{filename}:{number}" if number else filename

    for name in data:
        if name not in TABLES:
            problems.append(
                f"{filename}: unknown section {name!r}: use [[tiers]], [[triggers]], [[contacts]]"
            )
    tables = {}
    for table, fields in TABLES.items():
        rows = data.get(table, [])
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            problems.append(f"{filename}: {table} must be written as [[{table}]] tables")
            rows = []
        for i, row in enumerate(rows):
            for key, value in row.items():
                if key not in fields:
                    allowed = ", ".join(fields)
                    problems.append(
                        f"{at(table, i, key)}: {table}: unknown key {key!r} (allowed: {allowed})"
                    )
                elif type(value) is not fields[key]:
                    problems.append(
                        f"{at(table, i, key)}: {table}.{key} must be {TYPE_WORDS[fields[key]]}"
                    )
            for key in REQUIRED[table]:
                if key not in row:
                    problems.append(f"{at(table, i)}: [[{table}]] needs {key} = ...")
        tables[table] = rows
    if problems:
        raise PolicyError(problems)

    tiers = tables["tiers"]
    if not tiers:
        problems.append(f"{filename}: the policy needs at least one [[tiers]] table")
    names: set[str] = set()
    for i, tier in enumerate(tiers):
        if not SLUG.match(tier["name"]):
            problems.append(
                f"{at('tiers', i, 'name')}: tier name {tier['name']!r}: use lower-case letters, "
                "digits, - or _"
            )
        if tier["name"] in names:
            problems.append(f"{at('tiers', i, 'name')}: tier {tier['name']!r} appears twice")
        names.add(tier["name"])
        if not 1 <= tier["minutes"] <= 24 * 60:
            problems.append(
                f"{at('tiers', i, 'minutes')}: minutes must be between 1 and 1440, "
                f"not {tier['minutes']}"
            )
    seen_on: set[str] = set()
    for i, trigger in enumerate(tables["triggers"]):
        error = trigger_error(trigger["on"])
        if error:
            problems.append(f"{at('triggers', i, 'on')}: {error}")
        if trigger["on"] in seen_on:
            problems.append(f"{at('triggers', i, 'on')}: trigger {trigger['on']!r} appears twice")
        seen_on.add(trigger["on"])
        if trigger["tier"] not in names:
            problems.append(f"{at('triggers', i, 'tier')}: no tier named {trigger['tier']!r}")
        if "minutes" in trigger and not 1 <= trigger["minutes"] <= 24 * 60:
            problems.append(f"{at('triggers', i, 'minutes')}: minutes must be between 1 and 1440")
    seen_contacts: set[tuple] = set()
    for i, contact in enumerate(tables["contacts"]):
        if contact["tier"] not in names:
            problems.append(f"{at('contacts', i, 'tier')}: no tier named {contact['tier']!r}")
        if not contact["ward"].strip():
            problems.append(f"{at('contacts', i, 'ward')}: ward is empty (use * for every ward)")
        email, webhook = contact.get("email", ""), contact.get("webhook", "")
        if not email and not webhook:
            problems.append(f"{at('contacts', i)}: a contact needs an email or a webhook")
        if email:
            try:
                EmailValidator()(email)
            except ValidationError:
                problems.append(
                    f"{at('contacts', i, 'email')}: {email!r} is not an e-mail address"
                )
        if webhook:
            try:
                URLValidator(schemes=["http", "https"])(webhook)
            except ValidationError:
                problems.append(
                    f"{at('contacts', i, 'webhook')}: {webhook!r} is not an http(s) address"
                )
            if not contact.get("secret"):
                problems.append(
                    f"{at('contacts', i, 'webhook')}: a webhook needs secret = ... to sign posts"
                )
        key = (contact["ward"], contact["tier"], email, webhook)
        if key in seen_contacts:
            problems.append(f"{at('contacts', i)}: the same contact appears twice")
        seen_contacts.add(key)
    if problems:
        raise PolicyError(problems)
    return tables


def _update(obj, values: dict[str, Any], label: str, changes: list[str]) -> None:
    """Set ``values`` on a saved ``obj``; note what changed."""
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if changed:
        for k in changed:
            setattr(obj, k, values[k])
        obj.save(update_fields=changed)
        # Secrets never reach the audit trail.
        shown = [k if k != "secret" else "secret (changed)" for k in changed]
        changes.append(f"{label}: {', '.join(shown)}")


@transaction.atomic
def load(text: str, filename: str, user=None) -> LoadResult:
    """Validate and store the policy; audit what changed (possibly nothing)."""
    tables = parse(text, filename)
    result = LoadResult(sha256=hashlib.sha256(text.encode()).hexdigest())
    changes = result.changes
    tiers: dict[str, EscalationTier] = {}
    for position, row in enumerate(tables["tiers"], start=1):
        values = {
            "label": row.get("label", ""),
            "position": position,
            "minutes": row["minutes"],
            "minutes_confirmed": True,
            "active": True,
        }
        tier = EscalationTier.objects.filter(name=row["name"]).first()
        if tier is None:
            tier = EscalationTier.objects.create(name=row["name"], **values)
            changes.append(f"tier {tier.name}: added")
        else:
            _update(tier, values, f"tier {tier.name}", changes)
        tiers[tier.name] = tier
    for tier in EscalationTier.objects.filter(active=True).exclude(name__in=tiers):
        _update(tier, {"active": False}, f"tier {tier.name}", changes)

    wanted_on = set()
    for row in tables["triggers"]:
        values = {
            "tier": tiers[row["tier"]],
            "minutes": row.get("minutes"),
            "record_required": row.get("record_required", True),
            "basis": row.get("basis", ""),
            "active": True,
        }
        wanted_on.add(row["on"])
        trigger = EscalationTrigger.objects.filter(on=row["on"]).first()
        if trigger is None:
            EscalationTrigger.objects.create(on=row["on"], **values)
            changes.append(f"trigger {row['on']}: added")
        else:
            _update(trigger, values, f"trigger {row['on']}", changes)
    for trigger in EscalationTrigger.objects.filter(active=True).exclude(on__in=wanted_on):
        _update(trigger, {"active": False}, f"trigger {trigger.on}", changes)

    kept = set()
    for row in tables["contacts"]:
        email, webhook = row.get("email", ""), row.get("webhook", "")
        tier = tiers[row["tier"]]
        contact = EscalationContact.objects.filter(
            ward=row["ward"], tier=tier, email=email, webhook=webhook
        ).first()
        values = {
            "name": row.get("name", ""),
            "secret": row.get("secret", ""),
            "include_identity": row.get("include_identity", False),
            "active": True,
        }
        label = f"contact {row['ward']} {tier.name} {email or webhook}"
        if contact is None:
            contact = EscalationContact.objects.create(
                ward=row["ward"], tier=tier, email=email, webhook=webhook, **values
            )
            changes.append(f"{label}: added")
        else:
            _update(contact, values, label, changes)
        kept.add(contact.pk)
    for contact in EscalationContact.objects.filter(active=True).exclude(pk__in=kept):
        _update(
            contact,
            {"active": False},
            f"contact {contact.ward} {contact.tier.name} {contact.email or contact.webhook}",
            changes,
        )
    known = user if user and user.is_authenticated else None
    AuditEvent.objects.create(
        user=known,
        user_name=known.get_username() if known else "",
        action="escalation_policy_loaded",
        object_type="EscalationPolicy",
        object_id=result.sha256[:40],
        detail={"file": filename, "sha256": result.sha256, "changes": changes},
    )
    return result
