"""Settings of the test project.

SQLite by default; PostgreSQL when ``IMPORT_EXPORT_TEST_DB=postgresql``, with the server given by
``IMPORT_EXPORT_TEST_PG_HOST`` (and optional ``_PORT``, ``_USER``, ``_NAME``, ``_PASSWORD``).
"""

import os

BASE_DIR = os.path.dirname(os.path.abspath(__file__))

SECRET_KEY = "import-export-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "import_export",
    "core",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


def _database_settings() -> dict:
    if os.environ.get("IMPORT_EXPORT_TEST_DB") == "postgresql":
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("IMPORT_EXPORT_TEST_PG_NAME", "import_export"),
            "USER": os.environ.get("IMPORT_EXPORT_TEST_PG_USER", "postgres"),
            "PASSWORD": os.environ.get("IMPORT_EXPORT_TEST_PG_PASSWORD", ""),
            "HOST": os.environ.get("IMPORT_EXPORT_TEST_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("IMPORT_EXPORT_TEST_PG_PORT", "5432"),
        }
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get(
            "IMPORT_EXPORT_TEST_SQLITE_NAME", os.path.join(BASE_DIR, "database.sqlite3")
        ),
    }


DATABASES = {"default": _database_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

STATIC_URL = "/static/"
STATIC_ROOT = os.path.join(BASE_DIR, "static")
MEDIA_ROOT = os.path.join(BASE_DIR, "media")
MEDIA_URL = "/media/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "root": {"handlers": ["null"]},
}
