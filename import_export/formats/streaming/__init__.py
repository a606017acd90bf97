"""Incremental export writers, one module per format, sharing the protocol in :mod:`.base`.

Modules are imported on demand by the ``Format`` classes (``get_stream_writer``) so that a
missing optional library (openpyxl, PyYAML) only matters to the format that needs it.
"""

from .base import RowLimitExceeded, StreamWriteError, StreamWriter, is_text_stream

__all__ = ["RowLimitExceeded", "StreamWriteError", "StreamWriter", "is_text_stream"]
