"""Django's Redis cache, with one ``redis.Redis`` client per connection pool instead of one per call.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` on every cache operation (the
pool, and so the sockets, are shared; the client object and its response callbacks are not): the
API throttles make three cache calls per request, and that construction was a measurable part of
an authenticated GET's CPU (benchmarks/profile_api.py). A ``redis.Redis`` is safe to share between
threads (each command takes a connection from the pool), so keeping one per pool changes nothing
else: same servers, same pools, same commands."""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
