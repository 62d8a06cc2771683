"""Redis as a cache that can go away: an outage costs speed, not pages.

Every call that fails on Redis is logged and answered as a miss (or a no-op), so the
cached SignalWire answers, the rendered fragments and the sessions fall back to doing
the work again. /healthz still reports the outage: its write-then-read round trip fails.
"""

import functools
import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _forgiving(method, fallback):
    """`method` of RedisCache, but a RedisError is logged and answered with what `fallback`
    makes of the same arguments."""

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RedisError:
            logger.warning("Redis cache %s failed; carrying on without the cache", method.__name__)
            return fallback(*args, **kwargs)

    return call


def _answer(value):
    return lambda *args, **kwargs: value


class ForgivingRedisCache(RedisCache):
    # What each call answers when Redis fails: a miss, "not stored" or "nothing to do";
    # get answers its default, set_many names every key as not set.
    get = _forgiving(RedisCache.get, lambda key, default=None, version=None: default)
    get_many = _forgiving(RedisCache.get_many, lambda *args, **kwargs: {})  # a new dict each time
    has_key = _forgiving(RedisCache.has_key, _answer(False))
    set = _forgiving(RedisCache.set, _answer(None))
    set_many = _forgiving(RedisCache.set_many, lambda data, *args, **kwargs: list(data))
    add = _forgiving(RedisCache.add, _answer(False))
    touch = _forgiving(RedisCache.touch, _answer(False))
    incr = _forgiving(RedisCache.incr, _answer(0))
    delete = _forgiving(RedisCache.delete, _answer(False))
    delete_many = _forgiving(RedisCache.delete_many, _answer(None))
