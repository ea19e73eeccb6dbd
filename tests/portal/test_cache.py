from portal.cache import RedisCache


def test_the_redis_cache_keeps_one_client_per_pool():
    """Django's builds a redis.Redis per call; ours keeps one (nothing is connected to build it)."""
    cache = RedisCache("redis://127.0.0.1:6379/5", {})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    assert cache._cache.get_client(write=False) is client  # one server: reads and writes share the pool
    assert client.connection_pool is cache._cache._get_connection_pool(True)


def test_the_redis_cache_keeps_a_client_per_server():
    cache = RedisCache("redis://127.0.0.1:6379/5,redis://127.0.0.1:6379/6", {})
    writer = cache._cache.get_client(write=True)
    assert writer.connection_pool.connection_kwargs["db"] == 5
    assert cache._cache.get_client(write=True) is writer
    readers = {id(cache._cache.get_client(write=False)) for _ in range(50)}
    assert readers and id(writer) not in readers  # reads go to the replica
