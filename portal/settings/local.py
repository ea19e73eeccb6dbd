"""Settings for a developer's machine: ``make run`` and ``manage.py``.

DEBUG is on unless ``DJANGO_DEBUG=false``. Without ``DJANGO_SECRET_KEY`` a key is made
once per checkout and kept in ``var/secret_key`` — only while DEBUG is on: with DEBUG off
this is a deployment, and a deployment names its key.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import STORAGES, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)


def _generated_secret_key() -> str:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. With DJANGO_DEBUG off the portal does not make up a "
            "secret key: set DJANGO_SECRET_KEY (e.g. `openssl rand -hex 32`)."
        )
    path = VAR_DIR / "secret_key"
    if not path.exists():
        from django.core.management.utils import get_random_secret_key

        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


# make run: a webhook receiver on this machine (examples/webhook_receiver.py) is a fine target.
PORTAL_WEBHOOKS_ALLOW_PRIVATE = env.bool("PORTAL_WEBHOOKS_ALLOW_PRIVATE", default=DEBUG)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or _generated_secret_key()

if DEBUG:
    # Static files straight from static/ and the apps: no collectstatic run needed.
    STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    WHITENOISE_USE_FINDERS = True
