"""Keyed tokens for NI numbers, and the one definition of a cleaned NI number.

A plain hash of an NI number could be reversed by hashing every possible NI number (there are
only a few hundred million), so the token is an HMAC under a secret key that never leaves the
machine: ``LLIF_PSEUDONYM_KEY`` if set (production keeps it in its secret store), else a key
file created on first use under ``LLIF_HOME/secrets`` readable by its owner only. Losing or
changing the key changes every token, so the file is never rewritten once it exists.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

import numpy as np
import pandas as pd

from contracts.errors import LlifError
from contracts.vocabulary.ni_numbers import NEVER_ISSUED_PREFIXES, NI_FULL

KEY_ENV = "LLIF_PSEUDONYM_KEY"
KEY_FILE = Path("secrets") / "pseudonym.key"
TOKEN_LENGTH = 32  # hex characters of the HMAC-SHA256 kept (128 bits)
MIN_KEY_LENGTH = 16

# HMRC's format and the prefixes never issued: the vocabulary's (contracts/vocabulary/ni_numbers.py)
_NI = NI_FULL
_NEVER_ISSUED = NEVER_ISSUED_PREFIXES


class PseudonymKeyError(LlifError, RuntimeError):
    """The key cannot be read or is unsafe; the message says what to do."""


def key_path(home: Path | None = None) -> Path:
    from contracts.settings import paths

    return paths(home).home / KEY_FILE


def load_key(home: Path | None = None) -> bytes:
    """The pseudonymisation key: ``LLIF_PSEUDONYM_KEY``, else the home's key file (made once).

    The file is created with ``O_EXCL`` and mode 0600 inside a 0700 folder, so it is never
    world-readable even for an instant and two processes starting together agree on one key.
    """
    env = os.environ.get(KEY_ENV)
    if env is not None:
        return _checked(env.strip(), f"${KEY_ENV}")
    path = key_path(home)
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PseudonymKeyError(
            f"llif: the pseudonymisation key {path} can be read by others (mode {mode:o}); "
            f"run `chmod 600 {path}` and check who may have copied it."
        )
    return _checked(path.read_text(encoding="ascii").strip(), str(path))


def _checked(text: str, where: str) -> bytes:
    if len(text) < MIN_KEY_LENGTH:
        raise PseudonymKeyError(
            f"llif: the pseudonymisation key in {where} is shorter than {MIN_KEY_LENGTH} "
            "characters; use a long random value (e.g. `python -c 'import secrets; "
            "print(secrets.token_hex(32))'`)."
        )
    return text.encode("utf-8")


def clean_ni(values) -> pd.Series:
    """NI numbers as HMRC issues them, or None: upper case, no spaces or hyphens, and the
    letters O and I read as 0 and 1 where digits belong (clerks type them for one another).

    Anything that is still not a valid NI number (a dropped suffix, a prefix never issued) is
    None: a wrong NI number must not link two people.
    """
    s = pd.Series(values, dtype=object).reset_index(drop=True)
    text = s.where(s.notna(), None).astype(pd.StringDtype("python"))
    text = text.str.upper().str.replace(r"[\s\-]", "", regex=True)
    digits = text.str.slice(2, 8).str.replace("O", "0", regex=False).str.replace("I", "1", regex=False)
    text = text.str.slice(0, 2) + digits + text.str.slice(8)
    ok = text.str.fullmatch(_NI).fillna(False).astype(bool) & ~text.str.slice(0, 2).isin(_NEVER_ISSUED).fillna(False)
    return pd.Series(np.where(ok.to_numpy(), text.to_numpy(dtype=object, na_value=None), None), dtype=object)


def token(value: str, key: bytes) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:TOKEN_LENGTH]


def ni_tokens(cleaned, key: bytes) -> pd.Series:
    """The token of each cleaned NI number (None stays None), hashing each distinct value once."""
    s = pd.Series(cleaned, dtype=object).reset_index(drop=True)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    table = np.array([token(str(u), key) for u in uniques] + [None], dtype=object)
    return pd.Series(table[codes], dtype=object)


FINGERPRINT_TEXT = "llif pseudonym key fingerprint v1"


def fingerprint(key: bytes) -> str:
    """A short public name for ``key`` (an HMAC under it of a fixed text): equal keys give
    equal fingerprints, and the fingerprint tells nothing of the key. The warehouse keeps the
    fingerprint of the key it was built with, so a different key is refused instead of giving
    the same NI number a second token (which would silently split people in linkage)."""
    return hmac.new(key, FINGERPRINT_TEXT.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
