"""Settings for the in-process test layers (api/, ws/): an in-memory channel layer.

Integration and browser tests start the real processes with `webapp.settings`.
"""

import os

os.environ.setdefault("DESCENT_CHANNEL_LAYER", "memory")
os.environ.setdefault("DESCENT_VAR_DIR", "/tmp/descent-test-var")

from webapp.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
