"""What a web process keeps of the API tokens it has checked, for one generation (``portal.generation``).

A right token's row, its login's (without the password), the login's tenant and roles there, by the
token's digest: the next request with that token, while the stamp it reads is the one they were kept under,
is answered from memory instead of two queries (the token with its login; the memberships with the tenant).
Each request gets model instances of its own, built from the kept values; nothing a request changes on them
is seen by the next. Tokens that fail are never kept: they are looked up, and counted, every time.
Expiry is checked on every request against the kept expiry; revocation, a changed login, membership or
tenant draw a new generation (``portal.models.KeptQuerySet``, the receivers ``portal.apps`` connects)."""

from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS

from portal.models import ApiToken, Tenant
from portal.selectors import tenant_and_roles_for_user

# At most this many tokens per process; past it, the process forgets them all and starts again.
LIMIT = 10_000


class Kept(NamedTuple):
    stamp: str
    token: tuple
    user: tuple
    tenant: tuple | None
    roles: tuple[str, ...]


_kept: dict[str, Kept] = {}
_fields: dict[type, list[str]] = {}


def _attnames(model) -> list[str]:
    names = _fields.get(model)
    if names is None:
        names = _fields[model] = [f.attname for f in model._meta.concrete_fields if f.attname != "password"]
    return names


def _values(obj) -> tuple:
    return tuple(getattr(obj, name) for name in _attnames(type(obj)))


def _built(model, values: tuple):
    return model.from_db(DEFAULT_DB_ALIAS, _attnames(model), values)


def find(*, digest: str) -> ApiToken | None:
    """The token kept under this digest, with its ``user``, its ``tenant_and_roles`` and the stamp it was kept
    under (``kept_stamp``: only a request that read that stamp may use it); None when none is."""
    kept = _kept.get(digest)
    if kept is None:
        return None
    token = _built(ApiToken, kept.token)
    token.kept_stamp = kept.stamp
    token.user = _built(get_user_model(), kept.user)
    token.tenant_and_roles = (None if kept.tenant is None else _built(Tenant, kept.tenant)), list(kept.roles)
    return token


def keep(*, digest: str, stamp: str, token: ApiToken) -> None:
    """Keep a right token (read under ``stamp``: the stamp read before the token was) with its login's
    tenant and roles, which it gets as ``tenant_and_roles``."""
    tenant, roles = tenant_and_roles_for_user(user=token.user)
    token.tenant_and_roles = tenant, roles
    if len(_kept) >= LIMIT:
        _kept.clear()
    _kept[digest] = Kept(stamp, _values(token), _values(token.user), None if tenant is None else _values(tenant),
                         tuple(roles))


def noted_use(*, digest: str, token: ApiToken) -> None:
    """The token's use was just noted (``last_used_at``): the kept row says so too."""
    kept = _kept.get(digest)
    if kept is not None:
        _kept[digest] = kept._replace(token=_values(token))


def forget() -> None:
    _kept.clear()


def tenant_and_roles(request) -> tuple[Tenant | None, list[str]]:
    """The caller's tenant and roles there: kept with the token when one signed the request, else read."""
    known = getattr(request.auth, "tenant_and_roles", None)
    return known if known is not None else tenant_and_roles_for_user(user=request.user)
