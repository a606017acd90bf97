"""Small helpers shared by the resource layer."""

from django.db import transaction


class atomic_if_using_transaction:  # noqa: N801 - the public name upstream uses
    """Enter ``transaction.atomic(using=...)`` only when transactions are in use.

    Lets one code path serve databases with and without transactions.
    """

    def __init__(self, using_transactions: bool, using: str | None):
        self.using_transactions = using_transactions
        self.context_manager = transaction.atomic(using=using) if using_transactions else None

    def __enter__(self):
        if self.context_manager is not None:
            self.context_manager.__enter__()

    def __exit__(self, *exc_info):
        if self.context_manager is not None:
            return self.context_manager.__exit__(*exc_info)
        return None


def keeps_methods(obj, originals) -> bool:
    """Whether ``obj`` runs exactly the methods in ``originals`` (name -> function): its class
    neither overrides nor had them replaced (``mock.patch`` on the class), and the object has
    none of its own.  The fast paths that skip a method's call ask this first."""
    own_attributes = getattr(obj, "__dict__", {})
    return all(
        getattr(type(obj), name, None) is original and name not in own_attributes
        for name, original in originals.items()
    )


def get_related_model(field):
    """The model a relation field points at, or ``None`` for a field that is not a relation."""
    if hasattr(field, "related_model"):
        return field.related_model
    return None


BYTE_ORDER_MARK = "\ufeff"


def strip_byte_order_mark(text):
    """``text`` without a leading byte-order mark (U+FEFF); anything else is returned as is.

    Files saved by Excel and Notepad start with one; decoded as ``utf-8`` (not ``utf-8-sig``)
    it stays in the text and would make the first header read ``"\\ufeffid"``.
    """
    if isinstance(text, str) and text.startswith(BYTE_ORDER_MARK):
        return text[len(BYTE_ORDER_MARK) :]
    return text


def strip_byte_order_mark_from_headers(dataset) -> None:
    """Remove a byte-order mark from ``dataset``'s first header, in place.

    A BOM is never part of a column name; leaving it turns an update into a new row because
    the id column is not found.
    """
    headers = getattr(dataset, "headers", None)
    if not headers or not isinstance(headers[0], str):
        return
    cleaned = strip_byte_order_mark(headers[0])
    if cleaned != headers[0]:
        dataset.headers = [cleaned, *headers[1:]]
