"""What the doors take (DESIGN.md "Integrity": hostile input is a 4xx, never a 5xx).

Digits are ASCII where digits are meant: ``'٤'.isdigit()`` and ``int('٤') == 4``, while
``'²'.isdigit()`` holds and ``int('²')`` fails, so neither ``isdigit()`` nor ``int()`` is a
check. Integers are bounded before they reach a query or a column. Text that names something
has no control or text-direction characters, and a UPN has Entra's characters only.

The API's fields (``portal.api.fields``), the pages' forms and the middleware that refuses NUL
(``portal.middleware``) all use these.
"""

import re
import unicodedata

from django.utils.http import url_has_allowed_host_and_scheme

# The largest id PostgreSQL's bigint and SQLite's integer hold.
ID_MAX = 2**63 - 1
# Licenses on one order or subscription at the door, whatever the product; the product's own,
# smaller maximum is the services' to check.
LICENSES_MAX = 1_000_000
# An id in a URL (the API router's lookups; Django's <int:…> converter is ASCII already).
ID_PATTERN = r"[0-9]{1,19}"

_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,1000}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?")


def whole_number(raw, *, min_value: int | None = None, max_value: int | None = None) -> int | None:
    """``raw`` as an int when it is one (not a bool, not a float) or a string of ASCII digits
    with an optional minus, within the bounds; otherwise None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _WHOLE_NUMBER.fullmatch(raw.strip()):
        value = int(raw.strip())
    else:
        return None
    if (min_value is not None and value < min_value) or (max_value is not None and value > max_value):
        return None
    return value


def parse_id(raw) -> int | None:
    """An id from a form, a URL or a body: a whole number from 1 to ``ID_MAX``, else None."""
    return whole_number(raw, min_value=1, max_value=ID_MAX)


def is_iso_date(raw) -> bool:
    """``YYYY-MM-DD`` in ASCII digits (``date.fromisoformat`` also takes ``2026-W27-3``, and
    Django's ``parse_date`` takes Arabic-Indic digits)."""
    return isinstance(raw, str) and _ISO_DATE.fullmatch(raw) is not None


def is_iso_datetime(raw) -> bool:
    """``YYYY-MM-DD``, optionally with ``Thh:mm[:ss[.ffffff]]`` and ``Z`` or ``±hh:mm``, in ASCII digits."""
    return isinstance(raw, str) and _ISO_DATETIME.fullmatch(raw) is not None


# Text-direction formatting characters: the embeddings, overrides and isolates (the "Trojan
# Source" characters) and the marks.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Control characters, line and paragraph separators, lone surrogates.
_NOT_TEXT_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})


def is_plain_text(text: str) -> bool:
    """No control character, line separator or text-direction character: text that shows
    as what it says (names of people, cards, incidents)."""
    return not any(ch in BIDI_CONTROLS or unicodedata.category(ch) in _NOT_TEXT_CATEGORIES for ch in text)


# Entra ID's userPrincipalName: up to 64 of A-Z a-z 0-9 ' . - _ ! # ^ ~ before the one @, not
# starting or ending with a period; a domain name after it.
_UPN = re.compile(r"(?!\.)[A-Za-z0-9'._!#^~-]{1,64}(?<!\.)@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*")


def is_upn(text: str) -> bool:
    return _UPN.fullmatch(text) is not None


def local_path(raw, *, host: str) -> str:
    """A ``next`` to go back to: a path of this site, or "" (redirect() would take "2" for a URL name,
    and "//evil.example/" is another site)."""
    raw = raw if isinstance(raw, str) else ""
    return raw if raw.startswith("/") and url_has_allowed_host_and_scheme(raw, allowed_hosts={host}) else ""
