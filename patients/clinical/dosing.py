"""Tocilizumab dose check against the label (REFERENCE k6).

The label: < 30 kg 12 mg/kg, >= 30 kg 8 mg/kg IV, doses above 800 mg per
infusion not recommended, repeat doses at least 8 h apart. The tolerance
before a dose counts as different from the label is local policy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .sources import cite

SOURCE = cite("LABEL_TOCILIZUMAB")
# Label (REFERENCE k6, CONFIRMED): dose by weight band, and the cap.
LOW_WEIGHT_BELOW_KG = 30
LOW_WEIGHT_MG_PER_KG = 12
MG_PER_KG = 8
MAX_MG = 800
# Label (single-source): repeat doses at least 8 h apart. CARTOX's 6 h
# conflicts; the label's longer interval is checked.
MIN_INTERVAL = timedelta(hours=8)
# Local policy (DERIVED, REFERENCE k6): more than 10 % from the computed
# dose needs an explicit confirmation.
TOLERANCE = 0.10
DOSE_PATTERN = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(mg/kg|mg)\s*\b", re.IGNORECASE)


@dataclass(frozen=True)
class DoseCheck:
    """What a recorded dose is against the label, and any mismatch."""

    mg: float | None
    expected_mg: float | None
    rule: str
    warnings: tuple[str, ...]

    def as_dict(self) -> dict:
        return {
            "mg": self.mg,
            "expected_mg": self.expected_mg,
            "rule": self.rule,
            "warnings": list(self.warnings),
            "source": SOURCE,
        }


def label_dose(weight_kg: float) -> tuple[float, str]:
    """Return the label dose in mg for ``weight_kg`` and how it was found."""
    per_kg = LOW_WEIGHT_MG_PER_KG if weight_kg < LOW_WEIGHT_BELOW_KG else MG_PER_KG
    band = (
        f"< {LOW_WEIGHT_BELOW_KG}"
        if per_kg == LOW_WEIGHT_MG_PER_KG
        else f">= {LOW_WEIGHT_BELOW_KG}"
    )
    mg = per_kg * weight_kg
    rule = f"label: {per_kg} mg/kg for {band} kg x {weight_kg:g} kg = {mg:g} mg"
    if mg > MAX_MG:
        mg = MAX_MG
        rule += f", capped at {MAX_MG} mg"
    return mg, rule


def check_tocilizumab_dose(
    dose: str,
    weight_kg: float | None,
    given_at: datetime,
    earlier: Sequence[datetime] = (),
) -> DoseCheck:
    """Return the check of one recorded tocilizumab dose."""
    warnings: list[str] = []
    previous = [t for t in earlier if t < given_at]
    if previous and given_at - max(previous) < MIN_INTERVAL:
        hours = (given_at - max(previous)).total_seconds() / 3600
        warnings.append(
            f"Given {hours:.1f} h after the previous dose: the label asks at least "
            f"{MIN_INTERVAL.total_seconds() / 3600:g} h between doses."
        )
    match = DOSE_PATTERN.match(dose or "")
    if weight_kg is None:
        # Nothing to compare with: said in the rule, not asked as a mismatch.
        rule = "patient weight not recorded: the dose was not checked against mg/kg"
        return DoseCheck(None, None, rule, tuple(warnings))
    expected, rule = label_dose(weight_kg)
    if match is None:
        warnings.append(f"Dose '{dose}' is not in mg or mg/kg: it cannot be checked ({rule}).")
        return DoseCheck(None, expected, rule, tuple(warnings))
    amount = float(match.group(1).replace(",", "."))
    mg = amount * weight_kg if match.group(2).lower() == "mg/kg" else amount
    if mg > MAX_MG:
        warnings.append(f"{mg:g} mg is above the {MAX_MG} mg a dose the label allows.")
    elif abs(mg - expected) > TOLERANCE * expected:
        warnings.append(
            f"{mg:g} mg ({mg / weight_kg:.1f} mg/kg) differs from the label dose by more than "
            f"{TOLERANCE:.0%} (local tolerance): {rule}."
        )
    return DoseCheck(mg, expected, rule, tuple(warnings))
