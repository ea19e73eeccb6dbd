"""API tokens: their format and what is stored of them (``portal.models.ApiToken``).

A token is ``pcp_`` (recognizable by secret scanners and people), a key id of 8 characters and a
secret of 40, letters and digits only (``pcp_`` + 48 characters, about 285 random bits). The key id
is stored as it is and shown in lists; the whole token is stored only as its SHA-256 digest.

Tokens from before (DRF's 40 hex characters, and a scenario's fixed ``api_token`` of 8 to 40
characters) keep working: they are "legacy" tokens, looked up by a key id derived from their digest
instead (their own characters may be a short, guessable demo string, never stored as they are).
"""

import hashlib
import re
import secrets
import string

PREFIX = "pcp_"
KEY_ID_CHARS = 8
SECRET_CHARS = 40
KEY_ID_LENGTH = len(PREFIX) + KEY_ID_CHARS  # 12: the stored, shown part
LEGACY_MARK = "~"  # legacy key ids start with it; a new token's never do
_ALPHABET = string.ascii_letters + string.digits
_NEW_FORMAT = re.compile(rf"{PREFIX}[A-Za-z0-9]{{{KEY_ID_CHARS + SECRET_CHARS}}}")
# What the Authorization header may carry at all: a new token or a legacy one (the scenario format's
# characters are free text of up to 40; anything longer than a new token is no token).
MAX_LENGTH = KEY_ID_LENGTH + SECRET_CHARS


def generate() -> str:
    """A new token (shown once; only its digest and key id are kept)."""
    return PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(KEY_ID_CHARS + SECRET_CHARS))


def digest(token: str) -> str:
    """The stored form of a token: unsalted SHA-256, hex.

    A fast hash is right here, unlike for passwords: a token is random (about 285 bits for a new
    one, 160 for DRF's old hex keys), so there is no dictionary to try and nothing a salt or a slow
    hash would protect; a database leak gives digests that can't be turned back into tokens. A fast
    hash also keeps authentication at one microsecond of hashing plus one indexed lookup per request.
    Unkeyed so that rotating ``DJANGO_SECRET_KEY`` doesn't invalidate every token, and so the data
    migration (which moved DRF's plaintext keys here) computes the same digests as the running portal.
    """
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def is_new_format(token: str) -> bool:
    return _NEW_FORMAT.fullmatch(token) is not None


def key_id(token: str) -> str:
    """The indexed lookup column: a new token's first 12 characters (``pcp_`` and its key id), or for
    a legacy token ``~`` and 11 characters of its digest."""
    return token[:KEY_ID_LENGTH] if is_new_format(token) else LEGACY_MARK + digest(token)[:KEY_ID_LENGTH - 1]
