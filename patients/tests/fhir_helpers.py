"""Shared helpers for the FHIR tests: validation against the R4 models."""

from __future__ import annotations

from fhir.resources.R4B import get_fhir_model_class


def validate_r4(resource: dict) -> None:
    """Raise unless ``resource`` validates against the FHIR R4 models."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def resources(bundle: dict, kind: str | None = None) -> list[dict]:
    found = [e["resource"] for e in bundle["entry"]]
    return [r for r in found if kind is None or r["resourceType"] == kind]


def by_code(bundle: dict, code: str) -> list[dict]:
    return [
        r
        for r in resources(bundle, "Observation")
        if any(cd["code"] == code for cd in r["code"].get("coding", []))
    ]
