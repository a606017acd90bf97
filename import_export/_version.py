"""The package version, under the names upstream's generated ``_version.py`` offers.

Upstream writes this module with setuptools-scm at build time; code that reads
``import_export._version.version`` or ``version_tuple`` works with the fork too.  The fork's
version is kept here by hand (``setup.cfg`` reads it).
"""

from __future__ import annotations

__all__ = [
    "__version__",
    "__version_tuple__",
    "version",
    "version_tuple",
    "__commit_id__",
    "commit_id",
]

__version__ = version = "4.5.0.dev1"
__version_tuple__ = version_tuple = (4, 5, 0, "dev1")
__commit_id__ = commit_id = None
