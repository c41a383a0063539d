"""Identifiers people type: one spelling per MRN, no hidden direction tricks.

Look-alike MRNs (fullwidth letters, lower case, a zero-width space) must
never register a second record for the same patient, and a name must never
carry the invisible controls that make text display in another order than
it is stored (Trojan Source, CVE-2021-42574).
"""

from __future__ import annotations

import unicodedata

# Unicode bidirectional embedding, override and isolate controls, and marks.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def normalise_mrn(text: str) -> str:
    """Return the one stored spelling of an MRN.

    NFKC folds fullwidth and other compatibility forms; format characters
    (zero-width spaces and joiners, soft hyphens, bidi controls) and
    whitespace go; letters are upper-cased.
    """
    folded = unicodedata.normalize("NFKC", text)
    kept = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf" and not ch.isspace())
    return kept.upper()


def bidi_controls_in(text: str) -> list[str]:
    """Return the bidi control characters in ``text`` as U+XXXX codes."""
    return sorted({f"U+{ord(ch):04X}" for ch in text if ch in BIDI_CONTROLS})
