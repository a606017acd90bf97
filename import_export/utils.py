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


def get_related_model(field):
    """The model a relation field points at, or ``None`` for a field that is not a relation."""
    if hasattr(field, "related_model"):
        return field.related_model
    return None
