"""Redis as a cache that can go away: an outage costs speed, not pages.

Every call that fails on Redis is answered as a miss (or a no-op), so the cached
SignalWire answers, the rendered fragments and the sessions' cached copies (the sessions
themselves are in the database: `cached_db`) fall back to doing the work again.

An outage must not cost every call its timeout, nor every call a log line: after a
failure this process leaves Redis alone for RETRY_AFTER seconds (calls answer a miss at
once), then lets one call try again. It logs one warning when Redis fails, one a minute
while it keeps failing, and one line when it is back. /healthz still reports the outage:
its write-then-read round trip fails.
"""

import functools
import logging
import threading
import time

from django.core.cache.backends.redis import RedisCache
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

logger = logging.getLogger(__name__)

# Seconds a connect or a reply may take, unless OPTIONS say otherwise: Redis on the
# same network answers in a millisecond, so a second means it is not answering.
DEFAULT_TIMEOUT = 1.0
# After a failure, calls skip Redis for this many seconds; then one call tries it again.
RETRY_AFTER = 5.0
# While Redis keeps failing, one warning this often (seconds), per process.
WARN_EVERY = 60.0


class _Health:
    """How one Redis server (one LOCATION) is doing, shared by this process's threads
    (Django makes a cache object per thread)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.failing_since = None  # monotonic time of the first failure, None when fine
        self.retry_at = 0.0
        self.warned_at = 0.0
        self.failures = 0
        self.probing = False

    def may_try(self) -> bool:
        """Whether this call should go to Redis: always when it is fine; while it fails,
        one call at a time once RETRY_AFTER has passed."""
        with self.lock:
            if self.failing_since is None:
                return True
            if self.probing or time.monotonic() < self.retry_at:
                self.failures += 1
                return False
            self.probing = True
            return True

    def succeeded(self, location: str) -> None:
        if self.failing_since is None:  # the usual case: no lock, nothing to do
            return
        with self.lock:
            if self.failing_since is None:
                return
            down_for = time.monotonic() - self.failing_since
            self.failing_since, self.probing, self.failures = None, False, 0
        logger.info("Redis is back at %s after %.0f s", location, down_for)

    def failed(self, location: str, error: RedisError) -> None:
        now = time.monotonic()
        with self.lock:
            self.probing = False
            self.retry_at = now + RETRY_AFTER
            self.failures += 1
            first = self.failing_since is None
            if first:
                self.failing_since = now
            elif now - self.warned_at < WARN_EVERY:
                return
            self.warned_at = now
            failures, down_for = self.failures, now - self.failing_since
        if first:
            logger.warning(
                "Redis at %s failed (%s: %s); carrying on without the cache, trying again "
                "every %g s",
                location,
                type(error).__name__,
                error,
                RETRY_AFTER,
            )
        else:
            logger.warning(
                "Redis at %s still failing after %.0f s (%d calls answered without it): %s",
                location,
                down_for,
                failures,
                error,
            )


_health: dict[str, _Health] = {}
_health_lock = threading.Lock()


def _health_of(location: str) -> _Health:
    health = _health.get(location)
    if health is None:
        with _health_lock:
            health = _health.setdefault(location, _Health())
    return health


def _forgiving(method, fallback):
    """`method` of RedisCache, but while Redis fails (a RedisError now, or one less than
    RETRY_AFTER seconds ago) it is answered with what `fallback` makes of the same
    arguments."""

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        health = _health_of(self._location)
        if not health.may_try():
            return fallback(*args, **kwargs)
        try:
            answer = method(self, *args, **kwargs)
        except RedisError as error:
            health.failed(self._location, error)
            return fallback(*args, **kwargs)
        health.succeeded(self._location)
        return answer

    return call


def _answer(value):
    return lambda *args, **kwargs: value


class ForgivingRedisCache(RedisCache):
    def __init__(self, server, params):
        options = {
            "socket_connect_timeout": DEFAULT_TIMEOUT,
            "socket_timeout": DEFAULT_TIMEOUT,
            # redis-py may retry a failed command with backoff; the outage handling here
            # is the retry policy, so a failing call fails once, within its timeout.
            "retry": Retry(NoBackoff(), 0),
            **params.get("OPTIONS", {}),
        }
        super().__init__(server, {**params, "OPTIONS": options})
        self._location = ",".join(self._servers)

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
