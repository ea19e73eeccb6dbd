"""gunicorn's settings for the portal. gunicorn reads this file from the directory it starts in: the
project's root, which is /app in the Docker image and in docker-compose (``gunicorn portal.wsgi …``);
settings given on the command line (``--bind``, ``--workers``, ``--timeout``) come on top.

``worker_class``: gunicorn's sync worker, whose own refusals (a request line over 4094 bytes: 414;
``Transfer-Encoding`` beside ``Content-Length``: 400; …) answer problem+json under ``/api/`` like every
other error there, instead of gunicorn's HTML page (``portal/server.py``). Another worker class given
on the command line (``-k gthread``, ``--threads``) would answer them in HTML again.
"""

worker_class = "portal.server.ProblemSyncWorker"
