"""Plan Change Portal: the Django project and the admin-center shell."""

from .celery import app as celery_app

__all__ = ("celery_app",)
