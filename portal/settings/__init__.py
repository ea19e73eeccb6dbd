"""Settings modules (cookiecutter-django's split): ``base`` is shared; pick one of

- ``portal.settings.local`` — ``make run``, ``manage.py`` and Celery by default: DEBUG on
  unless DJANGO_DEBUG=false, a secret key generated once into var/ while DEBUG is on;
- ``portal.settings.test`` — the pytest suite (pyproject.toml), var/test/;
- ``portal.settings.production`` — gunicorn (``portal.wsgi``'s default), the Docker image
  and docker-compose: refuses to start without DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and
  DJANGO_CACHE_URL.
"""
