"""Signals sent after an export or an import has finished (``model`` is passed as a keyword)."""

from django.dispatch import Signal

post_export = Signal()
post_import = Signal()
