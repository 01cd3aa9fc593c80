"""The rate-limit counters in a real Redis (as every web process shares them in production)."""

import pytest
from django.core.cache import caches
from django.test import override_settings

from tests.ops.test_rate_limits import BAD_SPEC, assert_limited, limits
from webapp.serve import start_redis

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_cache(tmp_path):
    proc, url = start_redis(tmp_path)
    config = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": "descent"}}
    try:
        with override_settings(CACHES=config):
            yield url
    finally:
        proc.kill()
        proc.wait(10)


def test_counters_in_redis_limit_and_expire_with_their_window(client_a, redis_cache):
    import redis

    with limits(runs=("2/m", "off")):
        assert [client_a.post_json("/api/runs", BAD_SPEC).status_code for _ in range(2)] == [400, 400]
        assert_limited(client_a.post_json("/api/runs", BAD_SPEC))
    keys = redis.Redis.from_url(redis_cache).keys("descent:*rl:runs:session:*")
    assert len(keys) == 1
    assert 0 < redis.Redis.from_url(redis_cache).ttl(keys[0]) <= 61
    assert caches["default"].get(keys[0].decode().split(":", 2)[2]) == 3  # every attempt counted once
