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

from contextvars import ContextVar

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from rest_framework import authentication, exceptions, throttling
from rest_framework.settings import api_settings

from portal import generation
from portal.cache import Ahead, window_check, window_release, window_reserve


class RatesFromSettings:
    @property
    def THROTTLE_RATES(self):  # DRF reads this attribute
        return api_settings.DEFAULT_THROTTLE_RATES


# The place a request's per-login throttle took ahead, in the authentication's round trip (``TokenAuthentication``):
# (where it was taken, what ``window_reserve`` would have answered), until the throttle claims it.
_ahead: ContextVar[tuple[Ahead, tuple[str | None, float]] | None] = ContextVar("throttle_ahead", default=None)


class UserRateThrottle(RatesFromSettings, throttling.UserRateThrottle):
    """Requests per signed-in user (``user``); anonymous callers count in ``anon`` instead.

    DRF's sliding window, each request's place taken atomically in one round trip
    (``portal.cache.window_reserve``) instead of DRF's read of the whole history and write of it back. For a
    token the process kept, the place is taken in the round trip that checks the bad tokens' limit and reads the
    generation (``ahead``): this throttle then claims it. A place the request never claims (it was refused before
    its throttles were checked: a 403, a 406) is given back when the request ends (``ahead_release``), so that only
    requests that reach the throttle count, as in DRF."""

    @classmethod
    def ahead(cls, request, *, user_pk: int, stamp: str) -> Ahead | None:
        """Where this request's view will take its place for login ``user_pk``, if it has this throttle."""
        view = (getattr(request, "parser_context", None) or {}).get("view")
        for throttle in view.get_throttles() if view is not None else ():
            if type(throttle) is cls and throttle.rate is not None:
                key = throttle.cache_format % {"scope": throttle.scope, "ident": user_pk}
                return Ahead(key, throttle.duration, throttle.num_requests, stamp)
        return None

    def get_cache_key(self, request, view):
        return super().get_cache_key(request, view) if request.user.is_authenticated else None

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        taken = _ahead.get()
        if taken is not None and taken[0][:3] == (self.key, self.duration, self.num_requests):
            _ahead.set(None)
            entry, self.waiting = taken[1]
        else:
            entry, self.waiting = window_reserve(caches[DEFAULT_CACHE_ALIAS], self.key, now=self.timer(),
                                                 window=self.duration, limit=self.num_requests)
        return entry is not None

    def wait(self):
        return self.waiting


def ahead_release(**kwargs) -> None:
    """A request starts or ends (``request_started``, ``request_finished``): a place taken ahead and never claimed
    is given back."""
    taken = _ahead.get()
    if taken is not None:
        _ahead.set(None)
        (ahead, (entry, _wait)) = taken
        if entry is not None:
            window_release(caches[DEFAULT_CACHE_ALIAS], ahead.key, entry, window=ahead.window)


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

    def check(self, request, ahead: Ahead | None = None) -> str:
        """Without taking a place: 429 (Throttled) when none is left; else the generation's stamp
        (``portal.generation``), read in the same round trip, which the request has now seen. ``ahead``: the
        per-login throttle's place, taken in the same round trip if the stamp is ``ahead.stamp``."""
        wait, stamp, taken = window_check(
            caches[DEFAULT_CACHE_ALIAS], self.get_cache_key(request, None), now=self.timer(), window=self.duration,
            limit=self.num_requests, stamp_key=generation.KEY, fresh=generation.fresh(), ahead=ahead)
        if taken is not None:
            _ahead.set((ahead, taken))
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
            # A right token this process kept in it needs no place among the failures: it isn't looked up; its
            # login's place among its requests is taken in the same round trip (UserRateThrottle).
            token = self.kept_token(header)
            ahead = None if token is None else UserRateThrottle.ahead(request, user_pk=token.user_id,
                                                                      stamp=token.kept_stamp)
            self.stamp = throttle.check(request, ahead)
            identified = self.kept_credentials(token, self.stamp)
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

    def kept_token(self, header: list[bytes]):
        """The live token this process kept for this header (``kept_stamp``: in which generation), or None."""
        return None

    def kept_credentials(self, token, stamp: str):
        """``(user, token)`` of ``kept_token``'s token if it was kept in generation ``stamp``, or None to look it
        up."""
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
