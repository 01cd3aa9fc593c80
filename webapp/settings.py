"""Settings, all from the environment with safe defaults for the embedded run.

DATABASE_URL   default sqlite:///var/descent.sqlite3 (WAL, busy timeout, IMMEDIATE)
REDIS_URL      broker and channel layer; `make run` starts an embedded one when unset
SECRET_KEY     default: made once into var/secret_key (0600); set it when several web
               processes on different machines share sessions
DEBUG          default false (tracebacks are never shown); `serve --debug` or DEBUG=1
LOG_JSON       1: one JSON object a log line (webapp.logging)
DESCENT_*      limits (see LIMITS below), queues, worker settings
"""

from pathlib import Path

import dj_database_url

from webapp.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DESCENT_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    from webapp.security import secret_key_from_file

    SECRET_KEY = secret_key_from_file(VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "webapp.runs",
    "webapp.presets",
    "webapp.uploads",
    "webapp.controls",
    "webapp.sweeps",
    "webapp.rooms",
    "webapp.accounts",
    "webapp.ops",
]

MIDDLEWARE = [
    "webapp.errors.ApiErrorMiddleware",  # outermost: /api/ answers JSON errors, never HTML
    "django.middleware.security.SecurityMiddleware",
    "webapp.security.SecurityHeadersMiddleware",
    "webapp.security.StaticFilesMiddleware",  # WhiteNoise, before anything that touches the session
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "webapp.ratelimit.RateLimitMiddleware",
]

ROOT_URLCONF = "webapp.urls"
CSRF_FAILURE_VIEW = "webapp.errors.csrf_failure"
ASGI_APPLICATION = "webapp.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                           "django.contrib.auth.context_processors.auth",
                                           "django.contrib.messages.context_processors.messages"]},
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'descent.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker share the file: WAL lets readers run beside the
    # writer, IMMEDIATE takes the write lock up front so that two writers queue on the
    # busy timeout instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_COOKIE_AGE = 60 * 60 * 24 * 365
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Security headers (webapp.security adds the Content-Security-Policy)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DESCENT_HTTPS", False)
LOGIN_URL = "/accounts/login"
LOGIN_REDIRECT_URL = "/runs"
LOGOUT_REDIRECT_URL = "/"

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("DESCENT_STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "frontend" / "static"]
# Plotly ships its minified bundle inside the Python package: collected like any file
# (as vendor/plotly.min.js, by webapp.security.PlotlyFinder).
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "webapp.security.PlotlyFinder",
]
# `collectstatic` (run by serve.py and the test harness) writes hashed, gzip and brotli
# copies to STATIC_ROOT; WhiteNoise serves them with a year of immutable caching.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "webapp.security.StaticStorage"},
}
WHITENOISE_KEEP_ONLY_HASHED_FILES = False  # plain names keep working (short cache)
MEDIA_ROOT = Path(env_str("DESCENT_MEDIA_ROOT", str(VAR_DIR / "media")))
UPLOAD_ROOT = MEDIA_ROOT / "uploads"
DATA_UPLOAD_MAX_MEMORY_SIZE = 512 * 1024  # a spec is small; uploads have their own limit
FILE_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNEL_BACKEND = env_str("DESCENT_CHANNEL_LAYER", "redis")
if CHANNEL_BACKEND == "memory":
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
elif CHANNEL_BACKEND == "redis":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # group_send silently drops past a channel's capacity: the sink coalesces
            # (≤ ~20 messages/s a run) and browsers resume from the database anyway.
            # socket_timeout=None: redis-py 8 defaults it to 5 s, and channels_redis's idle
            # blocking pop waits 5 s on the server, so every idle consumer was closed with
            # "Timeout reading from ..." (django/channels_redis#422, redis/redis-py#4091).
            # Dead connections are found by keepalive and the health check instead.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None, "socket_connect_timeout": 5,
                                  "socket_keepalive": True, "health_check_interval": 15}],
                       "capacity": 1000, "expiry": 30},
        }
    }
else:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"DESCENT_CHANNEL_LAYER={CHANNEL_BACKEND!r}: expected redis or memory")

# Rate limits (webapp.ratelimit), "N/period" (s, m, h, d; "10/5m"), "off" to disable:
# per browser session (or account) and per client IP, on run creation, uploads, room
# joins and logins. A classroom behind one NAT address shares the per-IP budget.
from webapp.ratelimit import env_rate  # noqa: E402

RATE_LIMITS = {
    "runs": {"session": env_rate("DESCENT_RATE_RUNS", "20/m"), "ip": env_rate("DESCENT_RATE_RUNS_IP", "200/m")},
    "uploads": {"session": env_rate("DESCENT_RATE_UPLOADS", "10/m"), "ip": env_rate("DESCENT_RATE_UPLOADS_IP", "100/m")},
    "joins": {"session": env_rate("DESCENT_RATE_JOINS", "10/m"), "ip": env_rate("DESCENT_RATE_JOINS_IP", "300/m")},
    "logins": {"session": env_rate("DESCENT_RATE_LOGINS", "10/m"), "ip": env_rate("DESCENT_RATE_LOGINS_IP", "30/m")},
}
# Behind a reverse proxy, the client is the last X-Forwarded-For entry (the proxy's).
TRUST_X_FORWARDED_FOR = env_bool("DESCENT_TRUST_X_FORWARDED_FOR", False)
# Counters live in the cache: Redis when the channel layer is (shared by every web
# process), process memory otherwise (tests).
if CHANNEL_BACKEND == "redis":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": "descent", "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Limits, enforced on the server at validation (training.spec.Limits).
LIMITS = {
    "max_params": env_int("DESCENT_MAX_PARAMS", 2_000_000),
    "max_epochs": env_int("DESCENT_MAX_EPOCHS", 2000),
    "max_samples": env_int("DESCENT_MAX_SAMPLES", 20_000),
    "max_seconds": env_float("DESCENT_MAX_SECONDS", 900.0),
    "max_layers": env_int("DESCENT_MAX_LAYERS", 64),
    "max_batch_size": env_int("DESCENT_MAX_BATCH_SIZE", 4096),
    "max_landscape_resolution": env_int("DESCENT_MAX_LANDSCAPE_RESOLUTION", 51),
    "max_upload_bytes": env_int("DESCENT_MAX_UPLOAD_BYTES", 8 * 1024 * 1024),
    "max_pause_seconds": env_float("DESCENT_MAX_PAUSE_SECONDS", 600.0),  # live controls: one pause
    "max_memory_mb": env_int("DESCENT_MAX_MEMORY_MB", 2048),  # estimated peak of a run (training/check.py)
}
MAX_ACTIVE_RUNS_PER_OWNER = env_int("DESCENT_MAX_ACTIVE_RUNS", 4)
MAX_ACTIVE_RUNS_PER_IP = env_int("DESCENT_MAX_ACTIVE_RUNS_PER_IP", 8)  # a dropped cookie does not reset it
MAX_QUEUED_RUNS = env_int("DESCENT_MAX_QUEUED_RUNS", 200)  # active runs in total, every client
# A running run's worker writes Run.heartbeat_at every HEARTBEAT_INTERVAL seconds; one
# silent for HEARTBEAT_TIMEOUT is failed by the reaper (webapp.runs.services.reap).
HEARTBEAT_INTERVAL = env_float("DESCENT_HEARTBEAT_INTERVAL", 3.0)
HEARTBEAT_TIMEOUT = env_float("DESCENT_HEARTBEAT_TIMEOUT", 30.0)
# The worker's watchdog ends a run this long past its max_seconds (backstop for code
# that stopped polling should_stop) and restarts the worker process.
WATCHDOG_GRACE = env_float("DESCENT_WATCHDOG_GRACE", 60.0)
RETENTION_DAYS = env_int("DESCENT_RETENTION_DAYS", 0)  # prune_runs: 0 keeps everything
MAX_SWEEP_RUNS = env_int("DESCENT_MAX_SWEEP_RUNS", 64)  # runs of one sweep (points x repeats)
# sweep runs of one owner in the broker or running at once; the rest wait in the database
SWEEP_ACTIVE_PER_OWNER = env_int("DESCENT_SWEEP_ACTIVE_PER_OWNER", 4)
ROOM_MAX_STUDENTS = env_int("DESCENT_ROOM_MAX_STUDENTS", 200)
# unknown room codes one browser session / one address may try (then 429)
ROOM_CODE_MISS_RATE = env_str("DESCENT_ROOM_CODE_MISSES", "10/10m")
ROOM_CODE_MISS_RATE_IP = env_str("DESCENT_ROOM_CODE_MISSES_IP", "100/10m")
TORCH_THREADS = env_int("DESCENT_TORCH_THREADS", 1)
# Workers lower their CPU priority by this much (os.nice) so the web server stays responsive
# beside training on a shared machine (webapp.runs.tasks._lower_priority); 0 disables.
WORKER_NICE = env_int("DESCENT_WORKER_NICE", 5)
STEP_PUBLISH_INTERVAL = env_float("DESCENT_STEP_PUBLISH_INTERVAL", 0.05)  # ≤ 20 messages/s a run

# Celery: a run is one long task; never lose it, never run it twice.
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# a worker process lost mid-task (prefork child killed) puts the message back; the task
# finds its run claimed and leaves the ending to the reaper, so nothing runs twice
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3  # a down broker is a quick 503 at creation, not a hang
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env_str("DESCENT_CPU_QUEUE", "celery")
CELERY_GPU_QUEUE = env_str("DESCENT_GPU_QUEUE", "gpu")
# A queued cuda run fails when no CUDA worker has been seen for this long (services.fail_stranded_gpu_runs).
GPU_WAIT_SECONDS = env_float("DESCENT_GPU_WAIT_SECONDS", 300.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers an unacknowledged task after the visibility timeout: keep it above
# the longest allowed run (plus the landscape), or a long run would start twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(LIMITS["max_seconds"] * 2 + 3600)}
CELERY_TASK_TIME_LIMIT = int(LIMITS["max_seconds"] * 2 + 600)

LOG_JSON = env_bool("LOG_JSON", False)
CELERY_WORKER_HIJACK_ROOT_LOGGER = not LOG_JSON  # let the worker log through LOGGING below
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "webapp.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", **({"formatter": "json"} if LOG_JSON else {})}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}
