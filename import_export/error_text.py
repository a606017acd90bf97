"""Keeping error messages about imported values short.

A message that quotes a bad cell is shown next to the row, which shows the cell again; with a
5 MB cell the error page grew to 10 MB. Values quoted in messages are therefore cut to
:data:`VALUE_LIMIT` characters and whole messages to :data:`MESSAGE_LIMIT`; messages about
short values are unchanged (upstream's texts).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

#: Characters of a value quoted in a message.
VALUE_LIMIT = 50
#: Characters of one message.
MESSAGE_LIMIT = 500

_ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"


def shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, the cut marked with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + _ELLIPSIS


def shorten_value(value: Any, limit: int = VALUE_LIMIT) -> Any:
    """Text longer than ``limit`` cut (with an ellipsis); any other value as it is."""
    if isinstance(value, str) and len(value) > limit:
        return shorten(value, limit)
    return value


def shorten_validation_error(error: ValidationError) -> ValidationError:
    """``error`` with quoted values (its ``params``) and over-long messages shortened.

    The structure (a dict of field errors or a list) and each message's ``code`` are kept, so
    callers that inspect ``error_dict`` or codes see what they saw before.
    """
    if hasattr(error, "error_dict"):
        return ValidationError(
            {
                field: [_shorten_one(item) for item in items]
                for field, items in error.error_dict.items()
            }
        )
    return ValidationError([_shorten_one(item) for item in error.error_list])


def _shorten_one(item: ValidationError) -> ValidationError:
    params = item.params
    if isinstance(params, dict):
        params = {key: shorten_value(value) for key, value in params.items()}
    message = item.message
    if isinstance(message, str) and not params:
        message = shorten(message)
    return ValidationError(message, code=item.code, params=params)
