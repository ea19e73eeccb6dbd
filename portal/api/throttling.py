"""API throttles (CONTRACT.md: "429 problem+json with Retry-After when throttled").

DRF's throttle classes, composed for what DRF's order of checks leaves out. DRF
authenticates, then checks permissions, then throttles: a token guesser fails with 401
before any throttle runs, and so does every anonymous request to an endpoint that needs a
login. So two of the three limits are counted while authenticating:

- ``token_failures``: bad tokens per client address (``TokenAuthentication``);
- ``anon``: requests per client address from callers no token or session identified
  (``AnonymousRateLimit``, last of the authentication classes);
- ``user``: requests per signed-in user, by token or session alike (a throttle class).

The rates are read from ``REST_FRAMEWORK`` on every request (DRF binds them when it is
imported, so a changed setting would never apply). Counters live in the default cache,
shared by every web process in production; the bad tokens' is taken atomically (see
``TokenFailureThrottle``).
"""

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from rest_framework import authentication, exceptions, throttling
from rest_framework.settings import api_settings

from portal import generation
from portal.cache import window_check, window_release, window_reserve


class RatesFromSettings:
    @property
    def THROTTLE_RATES(self):  # DRF reads this attribute
        return api_settings.DEFAULT_THROTTLE_RATES


class UserRateThrottle(RatesFromSettings, throttling.UserRateThrottle):
    """Requests per signed-in user (``user``); anonymous callers count in ``anon`` instead.

    DRF's sliding window, each request's place taken atomically in one round trip
    (``portal.cache.window_reserve``) instead of DRF's read of the whole history and write of it back."""

    def get_cache_key(self, request, view):
        return super().get_cache_key(request, view) if request.user.is_authenticated else None

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        entry, self.waiting = window_reserve(caches[DEFAULT_CACHE_ALIAS], self.key, now=self.timer(),
                                             window=self.duration, limit=self.num_requests)
        return entry is not None

    def wait(self):
        return self.waiting


class AnonymousRateThrottle(RatesFromSettings, throttling.SimpleRateThrottle):
    """Requests per client address (``anon``), for callers nobody has identified."""

    scope = "anon"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenFailureThrottle(RatesFromSettings, throttling.SimpleRateThrottle):
    """Bad tokens per client address (``token_failures``): only failures count.

    A token takes a place among the address's failures before it is looked up, atomically
    (``portal.cache.window_reserve``), and a right one gives it back once checked: however many
    tokens arrive at once, no more than the limit are ever checked within the window (reading the
    count, then checking, then writing let a burst of 300 check 52 against a limit of 20). A right
    token holds a place only while it is looked up."""

    scope = "token_failures"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def reserve(self, request) -> str:
        """This token's place among the failures; 429 (Throttled) when none is left."""
        self.key = self.get_cache_key(request, None)
        entry, wait = window_reserve(caches[DEFAULT_CACHE_ALIAS], self.key, now=self.timer(), window=self.duration,
                                     limit=self.num_requests)
        if entry is None:
            raise exceptions.Throttled(wait=wait)
        return entry

    def release(self, entry: str) -> None:
        window_release(caches[DEFAULT_CACHE_ALIAS], self.key, entry, window=self.duration)

    def check(self, request) -> str:
        """Without taking a place: 429 (Throttled) when none is left; else the generation's stamp
        (``portal.generation``), read in the same round trip, which the request has now seen."""
        wait, stamp = window_check(caches[DEFAULT_CACHE_ALIAS], self.get_cache_key(request, None), now=self.timer(),
                                   window=self.duration, limit=self.num_requests, stamp_key=generation.KEY,
                                   fresh=generation.fresh())
        if wait is not None:
            raise exceptions.Throttled(wait=wait)
        generation.seen(stamp)
        return stamp


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token …``; once an address has sent ``token_failures`` bad tokens
    within the period, every token it sends answers 429 with Retry-After — a right one
    too, so a guesser learns nothing — until the oldest failure leaves the window."""

    stamp: str | None = None

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # no token: nothing to guess, other authenticators decide
        throttle = TokenFailureThrottle()
        if generation.enabled():
            # One round trip: is the address locked out, and which generation is this (portal.generation)?
            # A right token this process kept in it needs no place among the failures: it isn't looked up.
            self.stamp = throttle.check(request)
            identified = self.kept_credentials(header, self.stamp)
            if identified is not None:
                return identified
        entry = throttle.reserve(request)
        try:
            identified = super().authenticate(request)
        except exceptions.AuthenticationFailed:
            raise  # the place stays taken: this was a failure
        except BaseException:
            throttle.release(entry)  # not the token's fault (the database, a bug): no failure
            raise
        throttle.release(entry)
        return identified

    def kept_credentials(self, header: list[bytes], stamp: str):
        """``(user, token)`` of a right token kept in generation ``stamp``, or None to look it up."""
        return None


class AnonymousRateLimit(authentication.BaseAuthentication):
    """Last of the authentication classes, so reached only when no token or session
    identified the caller: counts the request in ``anon``, 429 past the rate. Never
    authenticates anyone."""

    def authenticate(self, request):
        throttle = AnonymousRateThrottle()
        if not throttle.allow_request(request, None):
            raise exceptions.Throttled(wait=throttle.wait())
        return None
