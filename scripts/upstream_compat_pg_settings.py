"""Settings for ``scripts/upstream_compat.sh --postgresql``: upstream's own, two values changed.

Upstream's ``tests/settings.py`` turns to PostgreSQL when ``IMPORT_EXPORT_TEST_TYPE=postgres``
and reads the user, password and port from ``IMPORT_EXPORT_POSTGRESQL_*`` (the script maps our
``IMPORT_EXPORT_TEST_PG_*`` variables onto those).  Two of its values do not fit a shared server,
so this module imports upstream's settings unchanged and overrides only them:

* ``HOST``: upstream hard-codes ``"localhost"``.  That happens to reach a local server, but a
  server given by ``IMPORT_EXPORT_TEST_PG_HOST`` elsewhere (another host, a socket directory)
  would silently be missed, so the host comes from that variable.
* ``TEST["NAME"]``: upstream sets none, so Django would use ``test_import_export``, the name our
  own suite's default also gets.  Django drops and recreates a test database of the same name
  without asking (``--noinput``), so two runs sharing a name would break each other.  The script
  passes a name of its own in ``COMPAT_PG_TEST_NAME``.

Used by the compatibility script only; it is not part of the package.  Upstream's files are
never edited: the script's working directory is upstream's ``tests/``, so ``settings`` below is
upstream's module.
"""

import os

from django.core.exceptions import ImproperlyConfigured
from settings import *  # noqa: F403 - upstream's tests/settings.py, taken whole
from settings import DATABASES

if "postgresql" not in DATABASES["default"]["ENGINE"]:
    raise ImproperlyConfigured(
        "upstream's tests/settings.py did not select PostgreSQL for "
        f"IMPORT_EXPORT_TEST_TYPE={os.environ.get('IMPORT_EXPORT_TEST_TYPE')!r}; "
        "has the variable changed in this upstream version?"
    )

DATABASES["default"]["HOST"] = os.environ["IMPORT_EXPORT_TEST_PG_HOST"]
DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ["COMPAT_PG_TEST_NAME"]
