"""PINs are kept as scrypt hashes: a stolen database does not give away the cards.

scrypt (from hashlib, OpenSSL) is a deliberately slow, memory-hard KDF; each hash carries its
own salt and parameters, so they can be raised later without invalidating stored PINs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

_N, _R, _P = 2**14, 8, 1
_PIN = re.compile(r"^[0-9]{4,8}$")


class BadPin(ValueError):
    """Not 4 to 8 digits."""


def check_pin_format(pin: str) -> str:
    if not _PIN.match(pin):
        raise BadPin("a PIN is 4 to 8 digits")
    return pin


def hash_pin(pin: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) for a 4-8 digit PIN."""
    check_pin_format(pin)
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    encode = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${encode(salt).decode()}${encode(digest).decode()}"


def verify_pin(pin: str, stored: str | None) -> bool:
    """Whether ``pin`` matches the stored hash (constant-time comparison)."""
    if not stored or not _PIN.match(pin):
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            pin.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def new_link_code() -> str:
    """A one-time code for ``/start link-CODE``: 10 characters of an unambiguous alphabet."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def hash_link_code(code: str) -> str:
    """Link codes are random and short-lived: a plain SHA-256 is enough to keep them unusable
    from a copy of the database."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()
