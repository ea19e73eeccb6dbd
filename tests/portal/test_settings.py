"""The settings modules, each loaded the way its entry point loads it: in a fresh process
with only the environment a deployment would give it."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "k3y-for-the-settings-tests-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFG"
PRODUCTION = {"DJANGO_SETTINGS_MODULE": "portal.settings.production", "DJANGO_SECRET_KEY": SECRET,
              "DJANGO_ALLOWED_HOSTS": "portal.example.com", "DJANGO_CACHE_URL": "redis://127.0.0.1:6379/14"}


def manage(tmp_path, *args, **env) -> subprocess.CompletedProcess:
    """``python manage.py ARGS`` with the test run's environment minus every setting of ours."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "PORTAL_", "DATABASE_URL", "CELERY_BROKER_URL"))}
    clean.update(PORTAL_VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=120)


def setting(tmp_path, expression: str, **env) -> str:
    result = manage(tmp_path, "shell", "--no-imports", "-c",
                    f"from django.conf import settings; print(repr(({expression})))", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = manage(tmp_path, "check", **{**PRODUCTION, "DJANGO_SECRET_KEY": ""})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY is not set: "
        "production settings (portal.settings.production) need it.")


@pytest.mark.parametrize("name", ["DJANGO_ALLOWED_HOSTS", "DJANGO_CACHE_URL"])
def test_production_refuses_to_start_without_its_hosts_or_shared_cache(tmp_path, name):
    env = {k: v for k, v in PRODUCTION.items() if k != name}
    result = manage(tmp_path, "check", **env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"django.core.exceptions.ImproperlyConfigured: {name} is not set: "
        "production settings (portal.settings.production) need it.")


def test_local_settings_with_debug_off_refuse_to_make_up_a_secret_key(tmp_path):
    result = manage(tmp_path, "check", DJANGO_SETTINGS_MODULE="portal.settings.local", DJANGO_DEBUG="false")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY is not set. With DJANGO_DEBUG off "
        "the portal does not make up a secret key: set DJANGO_SECRET_KEY (e.g. `openssl rand -hex 32`).")
    assert not (tmp_path / "var" / "secret_key").exists()


def test_local_settings_with_debug_on_make_a_key_once_and_keep_it(tmp_path):
    first = setting(tmp_path, "settings.DEBUG, settings.SECRET_KEY")  # manage.py's default: local
    second = setting(tmp_path, "settings.DEBUG, settings.SECRET_KEY")
    key_file = tmp_path / "var" / "secret_key"
    assert first == second == f"(True, '{key_file.read_text().strip()}')"
    assert len(key_file.read_text().strip()) == 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_production_uses_the_key_it_is_given_and_debug_is_off(tmp_path):
    assert setting(tmp_path, "settings.DEBUG, settings.SECRET_KEY == " + repr(SECRET), **PRODUCTION) == "(False, True)"
    assert not (tmp_path / "var" / "secret_key").exists()


def test_the_deploy_check_is_clean_with_production_settings(tmp_path):
    """Django's security checks and drf-spectacular's schema check, warnings included."""
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert (result.returncode, result.stdout, result.stderr) == (0, "System check identified no issues (0 silenced).\n", "")


def test_production_is_https_by_default(tmp_path):
    assert setting(tmp_path, "settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, "
                   "settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
                   "settings.SECURE_HSTS_PRELOAD, settings.SECURE_PROXY_SSL_HEADER, settings.X_FRAME_OPTIONS",
                   **PRODUCTION) == "(True, True, True, 31536000, True, True, None, 'DENY')"


def test_behind_a_tls_proxy_the_redirect_is_off_and_the_proxy_header_opted_in(tmp_path):
    env = {**PRODUCTION, "DJANGO_SECURE_SSL_REDIRECT": "false", "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}
    assert setting(tmp_path, "settings.SECURE_SSL_REDIRECT, settings.SECURE_PROXY_SSL_HEADER, "
                   "settings.SESSION_COOKIE_SECURE", **env) == "(False, ('HTTP_X_FORWARDED_PROTO', 'https'), True)"


def test_production_shares_its_cache_and_the_rates_come_from_the_environment(tmp_path):
    env = {**PRODUCTION, "PORTAL_API_RATE_USER": "7/second", "PORTAL_API_RATE_ANON": "8/hour",
           "PORTAL_API_RATE_TOKEN_FAILURES": "9/day", "PORTAL_LOGIN_FAILURE_LIMIT": "4",
           "PORTAL_LOGIN_COOLOFF_MINUTES": "30"}
    assert setting(tmp_path, "settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION'], "
                   "settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'], settings.AXES_FAILURE_LIMIT, "
                   "settings.AXES_COOLOFF_TIME", **env) == (
        "('portal.cache.RedisCache', 'redis://127.0.0.1:6379/14', "
        "{'anon': '8/hour', 'user': '7/second', 'token_failures': '9/day'}, 4, datetime.timedelta(seconds=1800))")


def test_the_test_settings_keep_their_own_var_dir_and_high_rates():
    from django.conf import settings

    assert os.environ["DJANGO_SETTINGS_MODULE"] == "portal.settings.test"
    assert os.environ["PORTAL_VAR_DIR"] == str(settings.VAR_DIR)  # the Celery workers the tests start inherit it
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "anon": "100000/minute", "user": "100000/minute", "token_failures": "100000/minute"}
