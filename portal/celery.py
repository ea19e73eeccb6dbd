"""The Celery application ``portal`` (``celery -A portal worker`` / ``beat``)."""

import os

from celery import Celery

from portal import broker  # noqa: F401  "filesystem://" writes each message whole (portal/broker.py)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
