"""Card numbers and PINs.

- Number: 16 digits = '9' + 14 uniformly random digits + a Luhn check digit. Random, so the next
  card's number cannot be guessed from the last one; the check digit catches a mistyped number
  before any PIN is tried (and before it can count against a real card).
- PIN: 8 uniformly random digits from ``secrets``.
- Together: log2(10**14) + log2(10**8) = 46.5 + 26.6 = 73.1 bits ≥ 64 (docs/decisions/0014).
- The PIN is stored only as ``scrypt$n$r$p$salt$hash`` (16-byte random salt, 32-byte key).
  Parameters come from ``settings.LAOKE["CARD_PIN_SCRYPT"]``; the default (n=2**13, r=8, p=1)
  costs about 20 ms per hash on one core and 8 MiB of memory. Verification re-derives with the
  parameters stored in the hash and compares with ``hmac.compare_digest``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.conf import settings

NUMBER_PREFIX = "9"
NUMBER_RANDOM_DIGITS = 14
PIN_DIGITS = 8
DEFAULT_SCRYPT = {"n": 2**13, "r": 8, "p": 1}


def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def number_valid(number: str) -> bool:
    return (
        isinstance(number, str)
        and len(number) == 1 + NUMBER_RANDOM_DIGITS + 1
        and number.isascii()
        and number.isdigit()
        and number.startswith(NUMBER_PREFIX)
        and luhn_digit(number[:-1]) == number[-1]
    )


def new_number() -> str:
    body = NUMBER_PREFIX + "".join(secrets.choice("0123456789") for _ in range(NUMBER_RANDOM_DIGITS))
    return body + luhn_digit(body)


def new_pin() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(PIN_DIGITS))


def pin_well_formed(pin: str) -> bool:
    return isinstance(pin, str) and len(pin) == PIN_DIGITS and pin.isascii() and pin.isdigit()


def _params() -> dict:
    return {**DEFAULT_SCRYPT, **settings.LAOKE.get("CARD_PIN_SCRYPT", {})}


def _derive(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hash_pin(pin: str) -> str:
    p = _params()
    salt = secrets.token_bytes(16)
    return (
        f"scrypt${p['n']}${p['r']}${p['p']}${_b64(salt)}${_b64(_derive(pin, salt, p['n'], p['r'], p['p']))}"
    )


def check_pin(pin: str, encoded: str) -> bool:
    """Constant-time check. A malformed PIN still costs one derivation (no timing shortcut)."""
    algo, n, r, p, salt, expected = encoded.split("$")
    if algo != "scrypt":
        raise ValueError("unknown PIN hash")
    candidate = pin if pin_well_formed(pin) else "x" * PIN_DIGITS
    derived = _derive(candidate, _unb64(salt), int(n), int(r), int(p))
    return hmac.compare_digest(derived, _unb64(expected)) and candidate == pin


def pin_fingerprint(pin: str) -> str:
    """A keyed digest standing in for the PIN where a request body is hashed (idempotency)."""
    return hmac.new(settings.SECRET_KEY.encode(), f"card-pin:{pin}".encode(), hashlib.sha256).hexdigest()


_DUMMY: dict[tuple, str] = {}


def check_pin_dummy(pin: str) -> bool:
    """Spend the same time as a real check when there is no card (no timing oracle for numbers)."""
    key = tuple(sorted(_params().items()))
    if key not in _DUMMY:
        _DUMMY[key] = hash_pin(new_pin())
    check_pin(pin, _DUMMY[key])
    return False
