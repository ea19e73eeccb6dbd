"""Django's Redis cache, with one ``redis.Redis`` client per connection pool instead of one per call.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` on every cache operation (the
pool, and so the sockets, are shared; the client object and its response callbacks are not): the
API throttles make three cache calls per request, and that construction was a measurable part of
an authenticated GET's CPU (benchmarks/profile_api.py). A ``redis.Redis`` is safe to share between
threads (each command takes a connection from the pool), so keeping one per pool changes nothing
else: same servers, same pools, same commands.

``window_reserve`` and ``window_release``: a log of the last N seconds' entries per key, of which a place is
taken atomically (a Lua script on Redis; a lock of the process on its own cache): the API's bad-token
throttle, which must never let more tokens be checked than its limit, however many arrive at once, and the
per-login rate. ``window_check`` asks, without taking a place, whether a log is full, and reads the
generation's stamp (``portal.generation``) in the same round trip, and may take a place in another log in it too
(the per-login rate's, for a token the process kept under that stamp)."""

import math
import threading
import uuid
from typing import NamedTuple

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient


# --- Sliding-window logs, reserved atomically (the API's bad-token throttle) ---------------------------

# KEYS[1]: the log, a sorted set of entries scored by their time. ARGV: now, window (seconds), limit, a
# new entry. Drops the entries older than the window; adds the new one if fewer than the limit remain
# (false), else answers the oldest one's time. One script: Redis runs it whole, so no two web processes
# can both take the last place.
_RESERVE = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(window))
return false
"""
# Caches that aren't Redis: the log is a list of (time, entry) in the cache, read and written under a
# lock of this process. That is atomic for a cache of the process's own (locmem, the embedded default:
# one web process); a cache shared by several processes that isn't Redis gets no such guarantee.
_LOCAL_LOCK = threading.Lock()


def _until(seconds: float, window: float) -> float:
    # Between 0 and the window: another process's clock (or this one's, a moment later) may be ahead.
    return min(max(seconds, 0.0), window)


def window_reserve(cache, key: str, *, now: float, window: float, limit: int) -> tuple[str | None, float]:
    """Take one of ``limit`` places in the log ``key`` of the last ``window`` seconds: ``(entry, 0)``,
    or ``(None, seconds until the oldest entry leaves the window)`` when every place is taken."""
    entry = uuid.uuid4().hex
    if isinstance(cache, django_redis.RedisCache):
        redis_key = cache.make_and_validate_key(key)
        oldest = cache._cache.get_client(redis_key, write=True).eval(_RESERVE, 1, redis_key, now, window, limit,
                                                                    entry)
        return (entry, 0.0) if oldest is None else (None, _until(float(oldest) + window - now, window))
    with _LOCAL_LOCK:
        return _local_reserve(cache, key, now=now, window=window, limit=limit, entry=entry)


def _local_reserve(cache, key: str, *, now: float, window: float, limit: int, entry: str) -> tuple[str | None, float]:
    log = [(at, kept) for at, kept in cache.get(key, []) if at > now - window]
    if len(log) >= limit:
        return None, _until(min(at for at, _kept in log) + window - now, window)
    cache.set(key, [*log, (now, entry)], math.ceil(window))
    return entry, 0.0


# KEYS[1]: a log as above, KEYS[2]: the generation's stamp (portal.generation). ARGV: now, window, limit, a
# fresh stamp. Whether the log is full (its oldest entry's time, or '') and the stamp, set to the fresh one
# if there was none: the one round trip an API request with a token its process kept makes for both.
# With KEYS[3], another log (the login's requests), and ARGV: the stamp the token was kept under, that log's
# window, its limit, a new entry: when the first log isn't full and the stamp is that one, a place in it is
# taken as _RESERVE takes one ('' when taken, else its oldest entry's time); 'untried' otherwise.
_CHECK = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local oldest = ''
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
end
local stamp = redis.call('GET', KEYS[2])
if not stamp then
  stamp = ARGV[4]
  redis.call('SET', KEYS[2], stamp)
end
local reserved = 'untried'
if #KEYS == 3 and oldest == '' and stamp == ARGV[5] then
  local other = tonumber(ARGV[6])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - other)
  if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[7]) then
    reserved = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')[2]
  else
    redis.call('ZADD', KEYS[3], now, ARGV[8])
    redis.call('EXPIRE', KEYS[3], math.ceil(other))
    reserved = ''
  end
end
return {oldest, stamp, reserved}
"""


class Ahead(NamedTuple):
    """A place to take in another log in ``window_check``'s round trip, if the stamp is ``stamp``."""

    key: str
    window: float
    limit: int
    stamp: str


def window_check(cache, key: str, *, now: float, window: float, limit: int, stamp_key: str, fresh: int,
                 ahead: Ahead | None = None) -> tuple[float | None, str, tuple[str | None, float] | None]:
    """Without taking a place: ``(seconds until the oldest entry of the full log ``key`` leaves the window, or
    None while places are left; the value under ``stamp_key``, which is set to ``fresh`` when missing; what
    ``window_reserve`` would answer for ``ahead``, taken in the same round trip when the log ``key`` isn't full and
    the stamp is ``ahead.stamp``, else None)``."""
    entry = uuid.uuid4().hex if ahead is not None else None
    if isinstance(cache, django_redis.RedisCache):
        redis_key = cache.make_and_validate_key(key)
        keys = [redis_key, cache.make_and_validate_key(stamp_key)]
        args = [now, window, limit, fresh]
        if ahead is not None:
            keys.append(cache.make_and_validate_key(ahead.key))
            args += [ahead.stamp, ahead.window, ahead.limit, entry]
        oldest, stamp, reserved = cache._cache.get_client(redis_key, write=True).eval(_CHECK, len(keys), *keys, *args)
        wait = _until(float(oldest) + window - now, window) if oldest else None
        stamp = stamp.decode() if isinstance(stamp, bytes) else str(stamp)
        reserved = reserved.decode() if isinstance(reserved, bytes) else reserved
        taken = None if reserved == "untried" else (
            (entry, 0.0) if reserved == "" else (None, _until(float(reserved) + ahead.window - now, ahead.window)))
        return wait, stamp, taken
    with _LOCAL_LOCK:
        log = [at for at, _kept in cache.get(key, []) if at > now - window]
        stamp = cache.get(stamp_key)
        if stamp is None:
            stamp = fresh
            cache.set(stamp_key, stamp, timeout=None)
        wait = _until(min(log) + window - now, window) if len(log) >= limit else None
        taken = None
        if ahead is not None and wait is None and str(stamp) == ahead.stamp:
            taken = _local_reserve(cache, ahead.key, now=now, window=ahead.window, limit=ahead.limit, entry=entry)
    return wait, str(stamp), taken


def window_release(cache, key: str, entry: str, *, window: float) -> None:
    """Give back a place taken by ``window_reserve`` (gone already if the window has moved past it)."""
    if isinstance(cache, django_redis.RedisCache):
        redis_key = cache.make_and_validate_key(key)
        cache._cache.get_client(redis_key, write=True).zrem(redis_key, entry)
        return
    with _LOCAL_LOCK:
        log = cache.get(key)
        if log:
            cache.set(key, [(at, kept) for at, kept in log if kept != entry], math.ceil(window))
