"""django-import-export with bounded-memory streaming export."""

__version__ = "4.5.0.dev1"
