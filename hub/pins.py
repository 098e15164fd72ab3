"""Staff PINs, stored only as salted PBKDF2 hashes: `python -m hub.pins 123456` makes one."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sys

ITERATIONS = 120_000


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """'pbkdf2_sha256$iterations$salt$hash' for a PIN."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, ITERATIONS)
    return f"pbkdf2_sha256${ITERATIONS}${salt.hex()}${digest.hex()}"


def check_pin(pin: str, stored: str) -> bool:
    """True when `pin` is the one `stored` was made from (constant-time comparison)."""
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    mine = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(mine.hex(), digest)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: python -m hub.pins PIN   (digits; prints the hash for the catalogue)")
    print(hash_pin(sys.argv[1]))
