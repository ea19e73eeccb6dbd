"""Stable pseudonyms for an anonymized import: the same name gives the same pseudonym (an HMAC of it with the
portal's secret key, so nobody without the key can test a guess against one), and nothing of the name is kept.
Domains become ``tenant-<hex>.example``, users ``user-<hex>@<that domain>``, names ``User <hex>``."""

import hashlib
import hmac

from django.conf import settings


def _digest(kind: str, value: str, length: int) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{kind}:{value.strip().lower()}".encode(), hashlib.sha256).hexdigest()[:length]


def domain(value: str) -> str:
    return f"tenant-{_digest('domain', value, 10)}.example"


def organization(value: str) -> str:
    return f"Tenant {_digest('organization', value, 6).upper()}"


def upn(value: str, *, domains: dict[str, str]) -> str:
    """The user's pseudonym in the pseudonym of the user's domain (``domains``: real → pseudonym)."""
    _local, _at, real_domain = value.lower().rpartition("@")
    return f"user-{_digest('upn', value, 12)}@{domains.get(real_domain) or domain(real_domain)}"


def display_name(upn_value: str) -> str:
    return f"User {_digest('name', upn_value, 8).upper()}"
