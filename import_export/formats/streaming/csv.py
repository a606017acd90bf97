"""CSV and TSV writers: one ``csv.writer`` call per row, straight to the target.

The classic export runs ``csv.writer`` over the whole dataset with the delimiter the format
defines unless the caller overrides it; these writers use the same module with the same
arguments, so quoting, line endings and number rendering are the same byte for byte.
"""

from __future__ import annotations

import csv
from typing import Any

from .base import StreamWriter


class CSVStreamWriter(StreamWriter):
    """Comma-separated values; other options (``delimiter``, ``quoting``...) go to csv.writer."""

    accepts_extra_options = True
    default_delimiter = ","

    def _open(self) -> None:
        dialect_options: dict[str, Any] = dict(self.options)
        dialect_options.setdefault("delimiter", self.default_delimiter)
        target = self.stream if self.text_stream else self._text_sink()
        # Bind the C writer's method to the instance: write_row then costs one call per row.
        self._write_row = csv.writer(target, **dialect_options).writerow
        if self.headers:
            self._write_row(self.headers)


class TSVStreamWriter(CSVStreamWriter):
    """Tab-separated values: CSV with a tab as the default delimiter."""

    default_delimiter = "\t"
