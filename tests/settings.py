"""Test settings: the real settings with a throw-away data dir, Huey in immediate mode and a
fast password hasher. The database is SQLite unless DATABASE_URL is set (the PostgreSQL run)."""

import os
import tempfile

os.environ.setdefault("LAOKE_TESTING", "1")
os.environ.setdefault("LAOKE_DATA_DIR", tempfile.mkdtemp(prefix="laoke-test-"))

from laoke.settings import *  # noqa: F403

# Cards: fast PIN hashing in tests (production: scrypt n=2**13, about 20 ms per PIN).
LAOKE = {**LAOKE, "CARD_PIN_SCRYPT": {"n": 2**4, "r": 8, "p": 1}}  # noqa: F405
