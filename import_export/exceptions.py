"""Exceptions raised by import_export; the names upstream code catches."""


class ImportExportError(Exception):
    """Base of every error this package raises on purpose."""


class FieldError(ImportExportError):
    """A resource names a field that does not exist or cannot be used."""


class WidgetError(ImportExportError):
    """A widget was misconfigured or used on a value it cannot handle."""


class ImportError(ImportExportError):  # noqa: A001 - the public name upstream uses
    """An error raised while importing one row, carrying the row and its number.

    The number is 1-based as a person counts the data rows of a file, so a message can say which
    row to fix.
    """

    def __init__(self, error, number=None, row=None):
        self.error = error
        self.number = number
        self.row = row

    def __str__(self) -> str:
        if self.number is None:
            return str(self.error)
        details = f"{self.error} (line number: {self.number}"
        if self.row is not None:
            details += f", row: {self.row}"
        return details + ")"


class StreamingError(ImportExportError):
    """A format cannot be written incrementally, or the streamed export could not be completed."""
