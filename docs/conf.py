"""Sphinx configuration for the django-import-export streaming fork.

autodoc imports the package, and the package imports Django models and admin code, so Django
has to be configured before Sphinx reads any module: a minimal in-memory settings object is
enough because nothing here touches a database.
"""

import os
import sys

import django
from django.conf import settings

DOCS_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(DOCS_DIR))

if not settings.configured:
    settings.configure(
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.messages",
            "django.contrib.sessions",
            "import_export",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        USE_TZ=True,
    )
django.setup()

import import_export  # noqa: E402 - needs the Django set-up above

project = "django-import-export (streaming fork)"
author = "The django-import-export streaming fork contributors"
release = import_export.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
# A module that fails to import is reported as a warning and left out; the rest still builds.

templates_path: list[str] = []
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_title = f"{project} {release}"
