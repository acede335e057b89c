"""What a National Insurance number looks like, and the numbers that belong to nobody.

Why here: linkage (``warehouse/identity.py``), pseudonymisation (``warehouse/pseudonymise.py``)
and the synthetic world that issues numbers (``synthetic_sources/world/identity.py``) each wrote
HMRC's rules out; if the world issued a number linkage calls malformed, linkage would be
measured on the wrong thing.

HMRC's format: two prefix letters, six digits, a suffix A-D. The first letter is never D, F, I,
Q, U or V; the second never D, F, I, O, Q, U or V; some pairs were never issued. The suffix does
not distinguish people (HMRC allocates the number by its first eight characters), so a number
keyed without its suffix still identifies the person.
"""

from __future__ import annotations

import re

FIRST_LETTERS = "ABCEGHJKLMNOPRSTWXYZ"
SECOND_LETTERS = "ABCEGHJKLMNPRSTWXYZ"
SUFFIXES = "ABCD"
NEVER_ISSUED_PREFIXES: tuple[str, ...] = ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ")
# every prefix HMRC issues, in alphabetical order (the world's numbers are a bijection onto them)
PREFIXES: tuple[str, ...] = tuple(a + b for a in FIRST_LETTERS for b in SECOND_LETTERS
                                  if a + b not in NEVER_ISSUED_PREFIXES)

_FIRST = f"[{FIRST_LETTERS}]"
_SECOND = f"[{SECOND_LETTERS}]"
# a full number, and the identifying stem with its suffix optional (both before the prefix check)
NI_FULL = re.compile(rf"^{_FIRST}{_SECOND}[0-9]{{6}}[{SUFFIXES}]$")
NI_STEM = re.compile(rf"^{_FIRST}{_SECOND}[0-9]{{6}}[{SUFFIXES}]?$")

# Numbers systems' trainers key when they have none: they belong to nobody. The first is the
# one the synthetic systems' dummy records carry.
PLACEHOLDER_NI_STEMS: tuple[str, ...] = ("AA000000", "AB123456", "QQ123456")
# A placeholder date of birth (systems that require one get 01/01/1900): unknown, not a date.
PLACEHOLDER_DOB = "1900-01-01"


def is_well_formed(text: str) -> bool:
    """A full, cleaned number (upper case, no spaces) in HMRC's format with an issued prefix."""
    return bool(NI_FULL.match(text)) and text[:2] not in NEVER_ISSUED_PREFIXES
