"""The per-login rate's place taken ahead (portal/api/throttling.py): a request with a token its process kept
makes one round trip to the cache, which checks the address's bad tokens, reads the generation and takes the
login's place; the login's limit holds as before, and a request refused before its throttles are checked (a 403)
takes no place, as in DRF. In the embedded default's cache and in Redis (production's)."""

import pytest
from rest_framework.test import APIClient

from portal.api import throttling
from tests.factories import TenantFactory, admin_of, token_for
from tests.helpers import throttles_cache

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.44"


@pytest.fixture(params=["locmem", "redis"])
def shared_cache(request, settings):
    """The throttles' cache: the embedded default's, or a Redis of its own key prefix; the per-login rate 3 a
    minute."""
    settings.PORTAL_API_KEEP = True
    with throttles_cache(request.param, settings, rates={"user": "3/minute"}) as kind:
        yield kind


@pytest.fixture
def calls(monkeypatch):
    """Each call the throttles make to the cache, by name."""
    made = []
    for name in ("window_check", "window_reserve", "window_release"):
        real = getattr(throttling, name)
        monkeypatch.setattr(throttling, name, lambda *a, _real=real, _name=name, **k: made.append(_name) or _real(*a, **k))
    return made


def get(token: str, path: str = "/api/v1/me/"):
    return APIClient().get(path, REMOTE_ADDR=ADDRESS, HTTP_AUTHORIZATION=f"Token {token}")


def test_a_kept_token_s_request_makes_one_round_trip(shared_cache, calls):
    token = token_for(admin_of(TenantFactory()))
    assert get(token).status_code == 200  # looked up, and kept
    calls.clear()
    assert [get(token).status_code for _ in range(2)] == [200, 200]
    assert calls == ["window_check", "window_check"]


def test_the_login_s_limit_holds_with_its_place_taken_ahead(shared_cache):
    alice, bob = admin_of(TenantFactory()), admin_of(TenantFactory())
    answers = [get(token_for(alice)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].json()["code"] == "throttled" and 1 <= int(answers[-1]["Retry-After"]) <= 60
    assert [get(token_for(bob)).status_code for _ in range(3)] == [200, 200, 200]


def test_a_request_refused_before_its_throttles_takes_no_place(shared_cache, calls):
    token = token_for(admin_of(TenantFactory()))
    assert get(token).status_code == 200  # kept, one place taken
    calls.clear()
    forbidden = [get(token, "/api/v1/support/tenants/") for _ in range(3)]  # support's: a tenant admin gets 403
    assert [(f.status_code, f.json()["code"]) for f in forbidden] == [(403, "permission_denied")] * 3
    assert calls == ["window_check", "window_release"] * 3  # each taken ahead, never claimed, given back
    assert [get(token).status_code for _ in range(3)] == [200, 200, 429]
