"""Settings for the in-process test layers (api/, ws/): an in-memory channel layer.

Integration and browser tests start the real processes with `webapp.settings`.
"""

import os

os.environ.setdefault("DESCENT_CHANNEL_LAYER", "memory")
os.environ.setdefault("DESCENT_VAR_DIR", "/tmp/descent-test-var")
# the suites create many runs from one client; tests of the limits set their own
for _name in ("RUNS", "UPLOADS", "JOINS", "LOGINS"):
    os.environ.setdefault(f"DESCENT_RATE_{_name}", "off")
    os.environ.setdefault(f"DESCENT_RATE_{_name}_IP", "off")

from webapp.settings import *  # noqa: E402,F401,F403

# no collectstatic before the in-process tests: plain names, no manifest
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - WhiteNoise warns about a missing one

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# runs are sent to an in-process broker: the API answers 201 without a Redis to reach
# (tests of a broker outage make the send fail on purpose)
CELERY_BROKER_URL = "memory://"
