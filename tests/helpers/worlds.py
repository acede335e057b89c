"""The small world most integration tests share (tests/conftest.py builds it once a session),
and the pseudonym key its identifiers are tokenised with."""

from __future__ import annotations

SMALL_WORLD = {"scale": 0.05, "seed": 11, "until": "2026-10-31"}
SMALL_WORLD_KEY = b"tests-only-pseudonym-key-0123456789abcdef"

# the session's first night: `llif demo` on a tiny world (tests/conftest.py, ``first_night``)
FIRST_NIGHT_DEMO = ["demo", "--scale", "0.02", "--seed", "3", "--replications", "6"]
