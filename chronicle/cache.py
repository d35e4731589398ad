"""The shared cache (CACHE_URL=redis://…), failing open.

It holds rate-limit counters and cached API answers. Redis is also the broker, and with it
down the site must keep answering (feeds and digests catch up later), so while Redis
cannot be reached this cache behaves as an empty one that keeps nothing: answers are
built afresh and no one is throttled, instead of every request failing. A process that
reaches Redis again says so (`reached_again`): what it meant to change meanwhile was lost.

Not django-redis with IGNORE_EXCEPTIONS: it answers None from `add` and `incr` while Redis
is down, which every counter (API throttles, admin sign-in) would then have to special-case.
"""

from __future__ import annotations

import functools
import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.dispatch import Signal
from redis.exceptions import ConnectionError, TimeoutError

logger = logging.getLogger(__name__)

reached_again = Signal()

# INCRBY only if the key exists (else nil): one round trip, where Django's client takes two
# and, should the key expire between them, leaves a counter that never expires.
_INCR_EXISTING = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('incrby', KEYS[1], ARGV[1]) end"

# MGET the keys but the first; if the last of them exists, INCR the counter KEYS[1] too (starting
# it to expire in ARGV[1] seconds) and answer its count, else 0.
_GET_COUNTING_IF_FOUND = """
local found = redis.call('mget', unpack(KEYS, 2))
if not found[#found] then return {0, found} end
local count = redis.call('incr', KEYS[1])
if count == 1 then redis.call('expire', KEYS[1], ARGV[1]) end
return {count, found}
"""


def _missing_key(*args):
    raise ValueError("Key not found: the cache cannot reach Redis")


def _failing_open(method, fallback):
    """`method`, answering `fallback(*args)` instead while Redis cannot be reached."""

    @functools.wraps(method)
    def wrapper(self, *args):
        try:
            value = method(self, *args)
        except (ConnectionError, TimeoutError) as error:
            if not self.unreachable:
                logger.warning("The cache cannot reach Redis (%s); going on without it", error)
            self.unreachable = True
            return fallback(*args)
        if self.unreachable:
            logger.warning("The cache reaches Redis again")
            self.unreachable = False
            reached_again.send(sender=type(self))
        return value

    return wrapper


def _always(value):
    return lambda *args: value


class FailOpenRedisCacheClient(RedisCacheClient):
    """Answers as an empty cache that keeps nothing while Redis cannot be reached."""

    unreachable = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        # Django builds a redis.Redis per command, copying its table of ~170 reply callbacks
        # each time: a quarter of a cached API answer's time. One per pool does that once; a
        # client is safe to share, taking a connection from its pool per command.
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client

    def _incr_existing(self, key, delta):
        value = self.get_client(key, write=True).eval(_INCR_EXISTING, 1, key, delta)
        if value is None:
            raise ValueError(f"Key {key!r} not found.")
        return value

    def _get_many_counting_if_found(self, keys, counter, timeout):
        client = self.get_client(counter, write=True)
        count, values = client.eval(_GET_COUNTING_IF_FOUND, 1 + len(keys), counter, *keys, timeout)
        found = {key: value for key, value in zip(keys, values, strict=True) if value is not None}
        if self.unreachable:  # reached again: what was read predates the receivers of `reached_again`
            found = {}
        return count, {key: self._serializer.loads(value) for key, value in found.items()}

    add = _failing_open(RedisCacheClient.add, _always(True))
    get = _failing_open(RedisCacheClient.get, lambda key, default: default)
    set = _failing_open(RedisCacheClient.set, _always(None))
    touch = _failing_open(RedisCacheClient.touch, _always(False))
    delete = _failing_open(RedisCacheClient.delete, _always(False))
    get_many = _failing_open(RedisCacheClient.get_many, _always({}))
    has_key = _failing_open(RedisCacheClient.has_key, _always(False))
    incr = _failing_open(_incr_existing, _missing_key)
    set_many = _failing_open(RedisCacheClient.set_many, _always(None))
    delete_many = _failing_open(RedisCacheClient.delete_many, _always(None))
    clear = _failing_open(RedisCacheClient.clear, _always(False))
    get_many_counting_if_found = _failing_open(_get_many_counting_if_found, lambda keys, counter, timeout: (0, {}))


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = FailOpenRedisCacheClient

    def get_many_counting_if_found(self, keys: list[str], counter: str, timeout: int) -> tuple[int, dict]:
        """Read `keys` and, if the last of them is found, count one more at `counter` (a new counter
        expires in `timeout` seconds), in one round trip to Redis: what a request reads, and its
        rate-limit count when what it reads answers it. The count is 0 when nothing was counted;
        while Redis is away, and on the call that reaches it again, nothing is found."""
        counted = self.make_and_validate_key(counter)
        key_map = {self.make_and_validate_key(key): key for key in keys}
        count, found = self._cache.get_many_counting_if_found(list(key_map), counted, timeout)
        return count, {key_map[key]: value for key, value in found.items()}
