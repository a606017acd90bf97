"""File formats: the tablib-backed ``Format`` classes and their incremental writers."""
