"""Django's PostgreSQL backend (``ENGINE`` ``portal.postgresql``, settings/base.py), with a health check that asks
the server only when the connection has something to read.

``CONN_HEALTH_CHECKS`` has Django check a kept connection before each request's (and each task's) first statement with
a ``SELECT 1``: a round trip per API GET, a twelfth of its CPU. A server that ends a connection (a restart,
``pg_terminate_backend``, an idle timeout) says so on it, a FATAL message and the socket's end, which make the socket
readable; an idle connection of a live backend has nothing to read. So: nothing to read, the connection is usable
as it is; something (the server's end, or anything else it sent) and the ``SELECT 1`` decides, as before. A
connection psycopg already knows is closed or broken is unusable, as before."""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable or super().is_usable()
