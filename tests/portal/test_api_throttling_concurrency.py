"""The bad-token limit under a burst (issue 21): however many bad tokens one address sends at once, no
more than the limit are looked up in the database within the window, in the cache of the embedded
default (the process's own memory) and in Redis (production's, shared by every web process)."""

import time

import pytest
from rest_framework.test import APIClient

from portal.api import authentication
from portal.models import ApiToken
from portal.services import api_token_create
from tests.factories import TenantFactory, admin_of
from tests.helpers import concurrently, throttles_cache

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.21"
LIMIT, BURST = 10, 60


@pytest.fixture(params=["locmem", "redis"])
def shared_cache(request, settings):
    """The throttles' cache: the embedded default's, or a Redis of its own key prefix."""
    with throttles_cache(request.param, settings, rates={"token_failures": f"{LIMIT}/hour"}) as kind:
        yield kind


@pytest.fixture
def lookups(monkeypatch):
    """Every token looked up in the database; each lookup takes a while, as on a database under load, so
    the burst's other requests arrive while the first ones are being checked."""
    looked_up, real = [], authentication.api_token_find

    def find(*, key):
        looked_up.append(key)
        time.sleep(0.05)
        return real(key=key)

    monkeypatch.setattr(authentication, "api_token_find", find)
    return looked_up


def _get(token: str):
    return APIClient().get("/api/v1/me/", REMOTE_ADDR=ADDRESS, HTTP_AUTHORIZATION=f"Token {token}")


def test_a_burst_of_bad_tokens_checks_no_more_than_the_limit(shared_cache, lookups):
    _token, right = api_token_create(user=admin_of(TenantFactory()), name="Scripts")
    tokens_before = ApiToken.objects.count()
    answers = concurrently(BURST, lambda n: _get(f"guess-{n}"))
    assert len(lookups) == LIMIT, f"{len(lookups)} bad tokens checked against a limit of {LIMIT}"
    assert sorted(a.status_code for a in answers) == [401] * LIMIT + [429] * (BURST - LIMIT)
    assert {(a["Content-Type"], a.json()["code"]) for a in answers} == {
        ("application/problem+json", "authentication_failed"), ("application/problem+json", "throttled")}
    assert all(1 <= int(a["Retry-After"]) <= 3600 for a in answers if a.status_code == 429)
    # The window is full: a right token from that address is refused unchecked too, and nothing was written.
    assert _get(right).status_code == 429
    assert len(lookups) == LIMIT
    assert ApiToken.objects.count() == tokens_before
    assert ApiToken.objects.filter(last_used_at__isnull=False).count() == 0

