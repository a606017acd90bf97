"""django-import-export with bounded-memory streaming export."""

from ._version import __version__

__all__ = ["__version__"]
