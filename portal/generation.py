"""The generation of what web processes keep between API requests.

Each web process keeps, in its own memory, what every API request would otherwise read from the database
again: an API token's login, tenant and roles (``portal.api.kept``) and the simulation clock's offset
(``portal.clock``). What it keeps is good for one generation: a random stamp under ``KEY`` in the default
cache, which every process shares (Redis in production), read once per request in the round trip the
bad-token throttle makes anyway (``portal.cache.window_check``). Whatever changes what is kept — an API
token, a login, a membership or a tenant stored or deleted, the clock moved — draws a new stamp
(``bump``): at once, and again when its transaction commits, so that the very next request of every
process reads the database again, and what one read between the two (the database before the commit)
is forgotten too. A stamp lost (Redis restarted, the key evicted) is a new generation as well.

A process keeps nothing unless ``PORTAL_API_KEEP`` is on: by default when the default cache is one every
process shares (not the per-process local-memory cache of ``make run``, whose worker and commands could not
tell the web process)."""

import secrets
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction

KEY = "portal:generation"

# The stamp this request read (None outside an API request that read one): what it may use of what is kept.
_current: ContextVar[str | None] = ContextVar("generation_current", default=None)


def enabled() -> bool:
    return settings.PORTAL_API_KEEP


def fresh() -> int:
    """A new stamp (an int: the cache stores it as digits, which a Lua script and ``cache.get`` both read)."""
    return secrets.randbits(62)


def bump(using: str = DEFAULT_DB_ALIAS) -> None:
    """What processes keep is no longer true: a new stamp now, and another when the transaction commits."""
    cache.set(KEY, fresh(), timeout=None)
    if connections[using].in_atomic_block:
        transaction.on_commit(lambda: cache.set(KEY, fresh(), timeout=None), using=using)


def current() -> str | None:
    return _current.get()


def seen(stamp: str) -> None:
    """This request read ``stamp``: what was kept under it is true for the rest of the request."""
    _current.set(stamp)


def forget(**kwargs) -> None:
    """A request starts or ends (``request_started``, ``request_finished``): no stamp read yet."""
    _current.set(None)
