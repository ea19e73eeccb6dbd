"""API throttling: per user, per anonymous address, and bad tokens per address — each 429
problem+json with Retry-After (CONTRACT.md)."""

import pytest
from django.core.cache import cache

from tests.factories import TenantFactory, admin_of, token_for

pytestmark = pytest.mark.django_db

ADDRESS, OTHER_ADDRESS = "203.0.113.9", "198.51.100.7"


@pytest.fixture(autouse=True)
def _rates(settings):
    cache.clear()  # the throttles' counters
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/minute", "user": "5/minute", "token_failures": "4/hour"},
    }
    yield
    cache.clear()


def get(api, token=None, address=ADDRESS, path="/api/v1/me/", **extra):
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    return api.get(path, REMOTE_ADDR=address, **headers, **extra)


def assert_throttled(response, retry_after_max: int):
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["type"], body["title"], body["status"], body["code"]) == (
        "/api/problems/throttled", "Too many requests", 429, "throttled")
    assert body["detail"].startswith("Request was throttled. Expected available in ")
    assert 1 <= int(response["Retry-After"]) <= retry_after_max
    return body


def test_a_user_gets_429_on_the_request_after_the_limit_and_other_users_do_not(api):
    tenant = TenantFactory()
    alice, bob = admin_of(tenant), admin_of(tenant)
    assert [get(api, token_for(alice)).status_code for _ in range(5)] == [200] * 5
    assert_throttled(get(api, token_for(alice)), retry_after_max=60)
    assert_throttled(get(api, token_for(alice), address=OTHER_ADDRESS), retry_after_max=60)  # per user, not address
    assert [get(api, token_for(bob)).status_code for _ in range(5)] == [200] * 5  # bob's own limit


def test_the_session_counts_against_the_same_user_limit(api, client):
    alice = admin_of(TenantFactory())
    assert [get(api, token_for(alice)).status_code for _ in range(3)] == [200] * 3
    client.force_login(alice)
    assert [client.get("/api/v1/me/", REMOTE_ADDR=OTHER_ADDRESS).status_code for _ in range(3)] == [200, 200, 429]


def test_anonymous_callers_are_limited_per_address(api):
    assert [get(api).status_code for _ in range(3)] == [401] * 3
    assert_throttled(get(api), retry_after_max=60)
    assert get(api, address=OTHER_ADDRESS).status_code == 401
    assert get(api, path="/api/schema/").status_code == 429  # the schema is an API view too


def test_bad_tokens_from_one_address_answer_429_even_for_a_right_token(api):
    alice = admin_of(TenantFactory())
    answers = [get(api, f"guess-{n}") for n in range(4)]
    assert [r.status_code for r in answers] == [401] * 4
    assert answers[0].json()["code"] == "authentication_failed"
    assert_throttled(get(api, "guess-4"), retry_after_max=3600)
    assert_throttled(get(api, token_for(alice)), retry_after_max=3600)  # a guesser can't tell a hit
    assert get(api, token_for(alice), address=OTHER_ADDRESS).status_code == 200  # alice elsewhere is fine
    assert get(api, "guess-5", address=OTHER_ADDRESS).status_code == 401


def test_good_tokens_do_not_count_as_failures(api):
    alice = admin_of(TenantFactory())
    for _ in range(3):
        get(api, "wrong")
    assert [get(api, token_for(alice)).status_code for _ in range(5)] == [200] * 5  # right tokens don't add up
    assert get(api, "wrong").status_code == 401  # the 4th failure
    assert get(api, token_for(alice)).status_code == 429


def test_a_forwarded_for_header_does_not_escape_the_throttle(api):
    """With no trusted proxy (PORTAL_PROXY_COUNT=0) the address is REMOTE_ADDR, whatever the header says."""
    for n in range(4):
        get(api, f"guess-{n}", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert get(api, "guess-x", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_the_throttled_answer_is_in_the_callers_language(api):
    for _ in range(3):
        get(api)
    body = get(api, HTTP_ACCEPT_LANGUAGE="sv").json()
    assert body["title"] == "För många begäranden"
