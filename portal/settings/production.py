"""Settings for a deployment: gunicorn (``portal.wsgi``), the Docker image, docker-compose.

Refuses to start without ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS`` and
``DJANGO_CACHE_URL`` (the cache every web process shares, for the API throttles).
HTTPS by default — ``manage.py check --deploy --fail-level WARNING`` passes (tests/portal/
test_settings.py); behind a TLS-terminating proxy, or for a plain-http demo, the switches
below turn parts of it off (docker-compose.yml says which and why).
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import cache_is_shared, env

DEBUG = False


def _required(name: str) -> str:
    value = env(name, default="").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} is not set: production settings (portal.settings.production) need it.")
    return value


SECRET_KEY = _required("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = [host.strip() for host in _required("DJANGO_ALLOWED_HOSTS").split(",") if host.strip()]
CACHES = {"default": env.cache_url_config(_required("DJANGO_CACHE_URL"))}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The same, keeping one Redis client per connection pool (portal/cache.py: cheaper per request).
    CACHES["default"]["BACKEND"] = "portal.cache.RedisCache"
PORTAL_API_KEEP = env.bool("PORTAL_API_KEEP", default=cache_is_shared(CACHES))  # base.py says why

# --- HTTPS --------------------------------------------------------------------
# Plain-http requests are redirected to https. Off (DJANGO_SECURE_SSL_REDIRECT=false) when
# a proxy in front terminates TLS and redirects itself, or for the local http demo.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Opt-in: the header a TLS-terminating proxy sets, e.g. X-Forwarded-Proto; a request is
# then secure when that header says "https". Only if the proxy always sets (or strips) it.
if header := env("DJANGO_SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + header.upper().replace("-", "_"), "https")
# Session and CSRF cookies only over https (DJANGO_SECURE_COOKIES=false for the http demo).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
# HSTS (sent on https responses only): a year, subdomains, preload-ready.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
