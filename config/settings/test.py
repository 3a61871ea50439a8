"""Settings for pytest. Services come from the environment exactly as in production."""

import os

from .base import *  # noqa: F401,F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In-process tests read mail.outbox; a worker subprocess writes files instead
# (BATON_TEST_EMAIL_BACKEND, EMAIL_FILE_PATH), so the test can count what it sent.
EMAIL_BACKEND = os.environ.get("BATON_TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
# Tests share one process-wide cache; the throttle tests set their own low rate.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {**REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "write": "100000/min"}

# The webhook tests post to a receiver on 127.0.0.1 over http; the production rules are
# tested with these switched back on.
WEBHOOKS_REQUIRE_HTTPS = False
WEBHOOKS_ALLOW_PRIVATE_TARGETS = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory, so a worker subprocess in the integration tests sees the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405
