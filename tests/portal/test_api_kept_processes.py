"""What one web process keeps, another's change undoes (issue 24 part 3): gunicorn with two workers as
deployed (production settings, the throttles and the generation's stamp in Redis), every worker keeping a
token, then the token revoked through one of them: every request after it, whichever worker answers, is 401.
Needs Redis (CELERY_BROKER_URL=redis://…): the local-memory cache keeps nothing (portal/generation.py)."""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from portal.models import AdminMembership, ApiToken
from portal.services import api_token_create
from tests.factories import SubscriptionFactory, TenantFactory, admin_of, product, token_for
from tests.worker import free_port, stop, worker_env

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not settings.CELERY_BROKER_URL.startswith("redis"), reason="needs Redis")]

BIN = Path(sys.executable).parent


def call(url: str, token: str | None, method: str = "GET") -> tuple[int, dict]:
    headers = {"Authorization": f"Token {token}"} if token else {}
    request = urllib.request.Request(url, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our loopback server
            body = response.read()
            return response.status, json.loads(body) if body else {}
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def gunicorn(tmp_path):
    port = free_port()
    env = worker_env(DJANGO_SETTINGS_MODULE="portal.settings.production", DJANGO_SECRET_KEY="kept-processes-test-only",
                     DJANGO_ALLOWED_HOSTS="127.0.0.1", DJANGO_CACHE_URL=settings.CELERY_BROKER_URL,
                     DJANGO_SECURE_SSL_REDIRECT="false", DJANGO_SECURE_COOKIES="false",
                     PORTAL_API_RATE_USER="100000/second", PORTAL_API_RATE_ANON="100000/second",
                     PORTAL_API_RATE_TOKEN_FAILURES="100000/hour")
    env.pop("PORTAL_API_KEEP", None)  # production's default: on, with Redis
    with (tmp_path / "gunicorn.log").open("w") as log:
        proc = subprocess.Popen(  # noqa: S603
            [str(BIN / "gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if call(f"{url}/api/v1/me/", None)[0] == 401:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((tmp_path / "gunicorn.log").read_text()[-3000:])
        time.sleep(0.3)
    try:
        yield url
    finally:
        stop(proc)


def test_a_token_revoked_through_one_worker_is_refused_by_every_worker_at_once(gunicorn, settings):
    # This process shares gunicorn's cache, as a command or a Celery worker of the deployment does.
    settings.CACHES = {"default": {"BACKEND": "portal.cache.RedisCache", "LOCATION": settings.CELERY_BROKER_URL}}
    tenant = TenantFactory(domain="processes.example")
    SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=3)
    admin = admin_of(tenant)
    key, other = token_for(admin), token_for(admin_of(tenant))
    _token, second = api_token_create(user=admin, name="Second")
    doomed_id = ApiToken.objects.get(user=admin, name="default").pk
    for _ in range(30):  # both workers keep it (sync workers take turns at the socket)
        status, _body = call(f"{gunicorn}/api/v1/subscriptions/", key)
        assert status == 200
    assert call(f"{gunicorn}/api/v1/tokens/{doomed_id}/", second, "DELETE")[0] == 204
    answers = {call(f"{gunicorn}/api/v1/subscriptions/", key)[0] for _ in range(30)}
    assert answers == {401}, answers
    # A membership removed by another process (this one) holds in every worker too.
    for _ in range(10):
        assert call(f"{gunicorn}/api/v1/subscriptions/", other)[0] == 200
    AdminMembership.objects.filter(tenant=tenant).exclude(user=admin).delete()
    assert {call(f"{gunicorn}/api/v1/subscriptions/", other)[0] for _ in range(30)} == {403}
