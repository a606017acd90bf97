"""The package version, under the names upstream's generated ``_version.py`` offers.

Upstream writes this module with setuptools-scm at build time; code that reads
``import_export._version.version`` or ``version_tuple`` works with the fork too.  The fork's
version is kept here by hand, and only here: ``setup.cfg`` reads ``__version__`` for the
distribution metadata and ``import_export/__init__.py`` re-exports it.

The version is django-import-export 4.4.3 with a PEP 440 local label (``+streaming.N``): it
says "a fork of 4.4.3" and satisfies every specifier 4.4.3 satisfies (``>=4.4,<4.5``,
``>=2.9,<5.0``, ``~=4.4``, even ``==4.4.3``, since a specifier without a local label ignores
the candidate's label).  See "Version" in ``docs/differences.rst``.
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

__version__ = version = "4.4.3+streaming.1"
# As setuptools-scm builds it: the release numbers, then the local label as one string.
__version_tuple__ = version_tuple = (4, 4, 3, "streaming.1")
__commit_id__ = commit_id = None
