"""Redis as a cache that can go away: an outage costs speed, not pages.

Every call that fails on Redis is logged and answered as a miss (or a no-op), so the
cached SignalWire answers, the rendered fragments and the sessions fall back to doing
the work again. /healthz still reports the outage: its write-then-read round trip fails.
"""

import logging

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class ForgivingRedisCache(RedisCache):
    def _carry_on(self, operation: str, fallback=None):
        logger.warning("Redis cache %s failed; carrying on without the cache", operation)
        return fallback

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError:
            return self._carry_on("get", default)

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError:
            return self._carry_on("get_many", {})

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except RedisError:
            return self._carry_on("has_key", False)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set(key, value, timeout, version)
        except RedisError:
            return self._carry_on("set")

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError:
            return self._carry_on("set_many", list(data))

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError:
            return self._carry_on("add", False)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except RedisError:
            return self._carry_on("touch", False)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except RedisError:
            return self._carry_on("incr", 0)

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError:
            return self._carry_on("delete", False)

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except RedisError:
            return self._carry_on("delete_many")
