"""Widgets turn one cell into a Python value on import (``clean``) and back on export (``render``).

A widget knows nothing about rows, columns or resources: when a value is bad it raises an error
that names the value and what was expected, and the resource layer adds where it was found.

``render`` runs once per exported cell, so the render paths avoid per-call work that can be done
once. Django settings are still read when a value is converted rather than when a widget is
built, because resources (and their widgets) are usually created at import time, long before
``override_settings`` or a per-request language could take effect.
"""

from __future__ import annotations

import json
import logging
import numbers
import sys
import warnings
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    FieldDoesNotExist,
    MultipleObjectsReturned,
    ObjectDoesNotExist,
    ValidationError,
)
from django.db.models import F, Model, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.utils import numberformat, timezone
from django.utils.dateparse import parse_duration
from django.utils.encoding import force_str, smart_str
from django.utils.formats import (
    get_format,
    number_format,
    sanitize_separators,
    sanitize_strftime_format,
)
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from import_export.error_text import shorten, shorten_value
from import_export.exceptions import WidgetError

__all__ = [
    "BooleanWidget",
    "CachedForeignKeyWidget",
    "CharWidget",
    "DateTimeWidget",
    "DateWidget",
    "DecimalWidget",
    "DurationWidget",
    "FloatWidget",
    "ForeignKeyWidget",
    "IntegerWidget",
    "InvalidNumberError",
    "NumberSyntaxError",
    "JSONWidget",
    "ManyToManyWidget",
    "NumberWidget",
    "RenderContext",
    "SimpleArrayWidget",
    "TimeWidget",
    "Widget",
    "format_datetime",
]

logger = logging.getLogger(__name__)

#: Upstream's message for a date, time or datetime that matches none of the formats.
_PARSE_FAILED = _("Value could not be parsed using defined formats.")


def format_datetime(value: date | time, datetime_format: str) -> str:
    """Format a date, datetime or time with ``strftime``, padding years before 1000.

    glibc's ``%Y`` writes year 33 as ``33`` rather than ``0033``, which no parser reads back;
    Django's sanitiser rewrites the format so that the output round-trips.
    """
    return value.strftime(sanitize_strftime_format(datetime_format))


def _warn_if_obj_passed(obj: Any) -> None:
    """Tell callers that ``render(value, obj)`` is going away, as upstream 4.x does."""
    if obj is not None:
        warnings.warn(
            # Worded exactly as upstream, so that warning filters written for it still apply.
            "The 'obj' parameter is deprecated and will be removed in a future release",
            DeprecationWarning,
            stacklevel=3,
        )


def _is_blank(value: Any) -> bool:
    """True for the values a spreadsheet cell holds when it is empty: None, or blank text."""
    if value is None:
        return True
    return isinstance(value, str) and not value.strip()


class RenderContext:
    """The active language's number notation and the current time zone, resolved once.

    Looking the language and time zone up costs about two microseconds each, because Django
    keeps them in asgiref's context-local storage, and Django offers no cheap way to notice
    that they changed. An exporter that renders many cells under one language and time zone
    can capture them once and pass the result as ``render(value, render_context=context)``;
    number and datetime widgets then skip the lookups. Without it they look them up per call.
    """

    __slots__ = ("decimal_separator", "number_grouping", "thousand_separator", "time_zone")

    def __init__(self) -> None:
        language = get_language()
        self.decimal_separator = get_format("DECIMAL_SEPARATOR", language, use_l10n=True)
        self.number_grouping = get_format("NUMBER_GROUPING", language, use_l10n=True)
        self.thousand_separator = get_format("THOUSAND_SEPARATOR", language, use_l10n=True)
        #: None when USE_TZ is off, so aware values are not converted, as without a context.
        self.time_zone = timezone.get_current_timezone() if settings.USE_TZ else None

    @classmethod
    def capture(cls) -> RenderContext:
        """Resolve the language's formats and the time zone active in the calling code."""
        return cls()

    def format_number(self, value: numbers.Number) -> str:
        """``value`` as ``django.utils.formats.number_format`` would write it right now."""
        return "" + numberformat.format(
            value,
            self.decimal_separator,
            None,
            self.number_grouping,
            self.thousand_separator,
            use_l10n=True,
        )


def _localize_number(value: numbers.Number, kwargs: Mapping[str, Any]) -> str:
    context = kwargs.get("render_context")
    if context is not None:
        return context.format_number(value)
    # Concatenation yields a plain str; Django returns a SafeString for some values.
    return "" + number_format(value)


def _wants_native(widget: Widget, kwargs: Mapping[str, Any]) -> bool:
    """Whether render should hand back the Python value rather than text.

    Binary formats (XLSX, XLS, ODS) pass ``force_native_type`` so that numbers and dates land
    in typed cells whatever the widget's own ``coerce_to_string`` says.
    """
    return not widget.coerce_to_string or bool(kwargs.get("force_native_type"))


def _with_detail(error: Exception, detail: str) -> Exception:
    """Attach the fork's fuller explanation to ``error`` as ``error.detail`` and return it.

    Messages keep upstream's text, which downstream code and tests compare; what the fork can
    add (the value, what was expected, the lookup that failed) goes into this attribute.
    """
    error.detail = detail
    return error


class InvalidNumberError(ValueError, InvalidOperation):
    """A value that is not a number where one was expected, where upstream raised ValueError.

    It is a ``ValueError`` so the import reports it as a validation error against its column,
    as upstream does for these values (NaN in an integer column, a magnitude too costly to
    convert, a list), and an ``InvalidOperation`` so ``except`` clauses written for either catch it.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message


class NumberSyntaxError(InvalidOperation):
    """Text that is not a number at all, in an integer or decimal column.

    Upstream lets the ``decimal`` module's ``InvalidOperation`` escape here. It is not a
    ``ValueError``, so the import does not treat it as a bad cell but as a failure of the row:
    ``Result.has_errors()`` is true and the whole import is rolled back. This class keeps those
    semantics (it is an ``InvalidOperation`` and deliberately not a ``ValueError``); its
    message is upstream's (``[<class 'decimal.ConversionSyntax'>]``) and ``detail`` names the
    value.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message


class Widget:
    """Converts one value between its imported/exported form and its Python form.

    The base widget passes values through on import and renders them with ``str`` on export.
    """

    def __init__(self, coerce_to_string: bool = True) -> None:
        """:param coerce_to_string: whether ``render`` returns text (True) or native values."""
        self.coerce_to_string = coerce_to_string

    def clean(self, value: Any, row: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """Return the Python value for an imported cell; the base widget leaves it unchanged."""
        return value

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        """Return the exported form of ``value``: its text, with ``None`` as an empty string.

        :param obj: deprecated; the instance the value was read from.
        """
        _warn_if_obj_passed(obj)
        return "" if value is None else force_str(value)

    def _obj_deprecation_warning(self, obj: Any) -> None:
        """Kept because subclasses written for upstream call it from their own ``render``."""
        _warn_if_obj_passed(obj)


class NumberWidget(Widget):
    """Base of the numeric widgets: renders numbers in the active locale's notation."""

    def is_empty(self, value: Any) -> bool:
        """True for None and blank text; zero is a value, not an empty cell."""
        return _is_blank(value)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        """Return the number formatted for the active language, or the number itself.

        Anything that is not a number renders as an empty string when text is wanted.
        """
        _warn_if_obj_passed(obj)
        if _wants_native(self, kwargs):
            return value
        # Plain ints are by far the most common exported number; without digit grouping their
        # localized form is just their digits, so skip Django's locale lookups for them.
        if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
            return str(value)
        if value is None or not isinstance(value, numbers.Number):
            return ""
        return _localize_number(value, kwargs)

    def _delocalize(self, value: Any) -> Any:
        """Rewrite text written with the active locale's separators into Python's notation.

        Plain digits (with a sign) have no separator to rewrite in any locale, and they are
        most cells of a number column: they skip the locale lookups, which cost more than the
        rest of the conversion.
        """
        if isinstance(value, str):
            text = value.strip()
            if _is_plain_integer_text(text):
                return text
            return sanitize_separators(text)
        return value


class FloatWidget(NumberWidget):
    """Converts to and from ``float``."""

    def clean(self, value: Any, row: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """Return a float, or None for an empty cell.

        :raises ValueError: when the value is not a number.
        """
        if self.is_empty(value):
            return None
        try:
            return float(self._delocalize(value))
        except ValueError as exc:  # bad text: a validation error, as upstream
            raise InvalidNumberError(shorten(str(exc)), _number_detail(value, _FLOAT)) from exc
        except TypeError as exc:  # a list, a date...: a row error, as upstream
            raise _with_detail(TypeError(shorten(str(exc))), _number_detail(value, _FLOAT)) from exc


def _max_int_digits() -> int:
    """The interpreter's limit on int/str conversions (0 means no limit, as in Python < 3.11)."""
    getter = getattr(sys, "get_int_max_str_digits", None)
    return getter() if getter else 0


#: Integers of at most this many bits (about 300 digits) are far below any limit
#: ``sys.set_int_max_str_digits()`` accepts (640 digits at least), so they need no check.
_SHORT_INT_BITS = 1000


def _plain_int(value: Any) -> int | None:
    """``value`` as an int when it needs no conversion step: an int (a JSON number) or the
    ASCII digits of a short integer with an optional sign (most CSV cells); else ``None``.

    For these values the result is the one ``int(Decimal(value))`` gives, without building a
    Decimal, and no separator can be involved (plain digits have none in any locale).
    """
    if type(value) is int:
        return value if value.bit_length() <= _SHORT_INT_BITS else None
    if type(value) is str:
        text = value.strip()
        if _is_plain_integer_text(text) and len(text.lstrip("+-")) <= 300:
            return int(text)
    return None


def _is_plain_integer_text(text: str) -> bool:
    """ASCII digits with at most one leading sign: text no locale writes differently."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    return digits.isascii() and digits.isdigit()


class IntegerWidget(NumberWidget):
    """Converts to and from ``int``; a fractional part is dropped, as upstream does."""

    def clean(self, value: Any, row: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """Return an int, or None for an empty cell.

        Text goes through ``Decimal`` so that "1.0" (a spreadsheet's integer) and huge values
        convert exactly.

        :raises ValueError: when the value is not a finite number, or has more digits than
            ``sys.get_int_max_str_digits()`` allows; turning such a value into an int costs
            time quadratic in its length, which an uploaded file must not be able to trigger.
        """
        if self.is_empty(value):
            return None
        if isinstance(value, bool):  # a boolean column imported into an integer one
            return int(value)
        plain = _plain_int(value)
        if plain is not None:
            return plain
        number = _to_decimal(self._delocalize(value), value, _EXPECTED_INTEGER)
        if not number.is_finite():
            detail = gettext("%(value)s is not a finite number (expected an integer)") % {
                "value": repr(shorten_value(value))
            }
            try:
                int(number)  # raises, with the message and the type upstream's conversion gave
            except OverflowError as exc:  # infinity: a row error, as upstream
                raise _with_detail(OverflowError(str(exc)), detail) from exc
            except ValueError as exc:  # NaN: a validation error, as upstream
                raise InvalidNumberError(str(exc), detail) from exc
        limit = _max_int_digits()
        if limit and number.adjusted() >= limit:
            raise InvalidNumberError(
                gettext(
                    "the value's magnitude exceeds the maximum of %(limit)s digits allowed for "
                    "integer conversion"
                )
                % {"limit": limit}
            )
        return int(number)


class DecimalWidget(NumberWidget):
    """Converts to and from ``Decimal``."""

    def clean(self, value: Any, row: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """Return a Decimal, or None for an empty cell.

        Floats go through their shortest text form, so 1.1 becomes Decimal("1.1") rather than
        the binary fraction nearest to it.

        :raises NumberSyntaxError: (an InvalidOperation, not a ValueError: a row error, as
            upstream's) when the value is not a number, or is NaN or infinite: no decimal
            column stores those, and refusing them here names the column instead of failing
            the row at save time.
        """
        if self.is_empty(value):
            return None
        delocalized = self._delocalize(value)
        if isinstance(delocalized, bool) or not isinstance(delocalized, (Decimal, int, float)):
            # Upstream reads every other value as its text; lists and the like then fail to parse.
            delocalized = force_str(delocalized)
        number = _to_decimal(delocalized, value, _EXPECTED_DECIMAL)
        if not number.is_finite():
            detail = gettext("%(value)s is not a finite number (expected a decimal number)") % {
                "value": repr(shorten_value(value))
            }
            raise NumberSyntaxError(str(_NOT_FINITE), detail)
        return number


_EXPECTED_INTEGER = _("an integer")
_EXPECTED_DECIMAL = _("a decimal number")
_FLOAT = _("a float")
_NOT_FINITE = _("No decimal column can store a value that is not a finite number.")


def _number_detail(value: Any, expected: Any) -> str:
    """The fork's explanation of a value that is not a number (kept in ``error.detail``)."""
    return gettext("%(value)s is not a valid number (expected %(expected)s)") % {
        "value": repr(shorten_value(value)),
        "expected": expected,
    }


def _to_decimal(delocalized: Any, original: Any, expected: str) -> Decimal:
    """Decimal of an already delocalized value, naming the original value when it is not one.

    The exception types are upstream's, because they decide how an import reports the row:
    text that does not parse raises :class:`NumberSyntaxError` (a row error), a list or tuple
    :class:`InvalidNumberError` (a ValueError: a validation error), any other type
    ``TypeError`` (a row error).
    """
    if isinstance(delocalized, Decimal):
        return delocalized
    # The detail is translated text: built only for a value that fails (it cost more than
    # the conversion itself when it was built for every cell).
    if isinstance(delocalized, (list, tuple)):
        raise InvalidNumberError(
            shorten(_decimal_error_text(delocalized)), _number_detail(original, expected)
        )
    if isinstance(delocalized, bool) or not isinstance(delocalized, (str, int, float)):
        raise _with_detail(
            TypeError(shorten(_decimal_error_text(delocalized))), _number_detail(original, expected)
        )
    try:
        return Decimal(force_str(delocalized))
    except InvalidOperation as exc:
        raise NumberSyntaxError(str(exc), _number_detail(original, expected)) from exc


def _decimal_error_text(value: Any) -> str:
    """The message ``Decimal(value)`` gives for a value of the wrong type, as upstream showed it."""
    try:
        Decimal(value)
    except (TypeError, ValueError, InvalidOperation) as exc:
        return str(exc)
    return f"conversion from {type(value).__name__} to Decimal is not supported"


class CharWidget(Widget):
    """Converts to and from text.

    :param allow_blank: whether an empty cell imports as "" (True) or None (False).
    """

    def __init__(self, coerce_to_string: bool = True, allow_blank: bool = True) -> None:
        self.allow_blank = allow_blank
        super().__init__(coerce_to_string)

    def clean(self, value: Any, row: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """Return the value as text; None becomes "" or stays None depending on allow_blank."""
        if value is None:
            return "" if self.allow_blank is True else None
        return force_str(value)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        """Return the text of the value ("" for None), or the value itself without coercion.

        Text is already native to every format, so ``force_native_type`` changes nothing.
        """
        _warn_if_obj_passed(obj)
        if not self.coerce_to_string:
            return value
        return "" if value is None else force_str(value)


class BooleanWidget(Widget):
    """Converts to and from ``True``/``False``/``None`` (a nullable BooleanField's values).

    Subclasses change the accepted spellings by overriding the three lists; the first entry of
    ``TRUE_VALUES`` and ``FALSE_VALUES`` is what ``render`` writes. Values in none of the lists
    import as False, as upstream does.
    """

    TRUE_VALUES = ["1", 1, True, "true", "TRUE", "True"]
    FALSE_VALUES = ["0", 0, False, "false", "FALSE", "False"]
    NULL_VALUES = ["", None, "null", "NULL", "none", "NONE", "None"]

    def __init__(self, coerce_to_string: bool = True) -> None:
        super().__init__(coerce_to_string)

    def clean(self, value: Any, row: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """Return None for a null spelling, True for a true one and False for anything else."""
        if value in self.NULL_VALUES:
            return None
        return value in self.TRUE_VALUES

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        """Return "1"/"0" ("" for None or a non-bool), or the bool itself when native."""
        _warn_if_obj_passed(obj)
        if _wants_native(self, kwargs):
            return value
        if type(value) is not bool:
            return ""
        return self.TRUE_VALUES[0] if value else self.FALSE_VALUES[0]


class _ParseDateTimeMixin:
    """Upstream's private base for date parsing, for widgets written against it.

    This package's own date, time and datetime widgets use :class:`_TemporalWidget` (formats
    read from the settings when a value is converted); this mixin keeps upstream's contract for
    subclasses that call it: ``formats`` fixed at construction, and ``_parse_value``.
    """

    def __init__(
        self,
        format: str | None = None,  # noqa: A002 - upstream's keyword
        input_formats: Iterable[str] | None = None,
        default_format: str = "%Y-%m-%d",
        coerce_to_string: bool = True,
    ) -> None:
        super().__init__(coerce_to_string=coerce_to_string)
        self.formats = (format,) if format else tuple(input_formats or (default_format,))

    def _parse_value(self, value: Any, value_type: type) -> Any:
        """``value`` as a ``value_type`` (date, time or datetime), trying each format in turn.

        Empty values give None and values already of the type are returned as they are.

        :raises ValueError: with upstream's message when no format matches.
        """
        if not value:
            return None
        if isinstance(value, value_type):
            return value
        for candidate in self.formats:
            try:
                parsed = datetime.strptime(value, candidate)
            except (TypeError, ValueError) as exc:
                logger.debug(str(exc))
                continue
            if value_type is date:
                return parsed.date()
            if value_type is time:
                return parsed.time()
            return parsed
        detail = gettext("%(value)s matches none of the formats %(formats)s") % {
            "value": repr(value),
            "formats": ", ".join(map(repr, self.formats)),
        }
        raise _with_detail(ValueError(str(_PARSE_FAILED)), detail)


class _TemporalWidget(Widget):
    """Shared parsing for the date, datetime and time widgets.

    Without an explicit ``format`` the formats come from a Django setting, read when a value is
    converted so that ``override_settings`` and settings changed after start-up take effect.
    The first format is the one ``render`` writes.
    """

    #: Name of the Django setting listing the accepted input formats.
    formats_setting = ""
    #: Format used when that setting is empty.
    default_format = ""
    #: What the error message says was expected.
    expected = ""
    #: The Python type ``clean`` returns (values of this type are passed through).
    value_type: type = object

    def __init__(self, format: str | None = None, coerce_to_string: bool = True) -> None:  # noqa: A002 - upstream's keyword
        super().__init__(coerce_to_string=coerce_to_string)
        self._explicit_formats: tuple[str, ...] | None = (format,) if format else None

    @property
    def formats(self) -> tuple[str, ...]:
        """The formats tried on import, in order; the first is the one written on export."""
        if self._explicit_formats:
            return self._explicit_formats
        configured = getattr(settings, self.formats_setting, None)
        return tuple(configured) if configured else (self.default_format,)

    @formats.setter
    def formats(self, value: Iterable[str]) -> None:
        """Let code written for upstream, where ``formats`` is a plain attribute, assign it."""
        self._explicit_formats = tuple(value) or None

    def _render_format(self) -> str:
        """The format ``render`` writes, found without building the whole formats tuple."""
        if self._explicit_formats:
            return self._explicit_formats[0]
        configured = getattr(settings, self.formats_setting, None)
        return configured[0] if configured else self.default_format

    def _parse(self, value: Any) -> Any:
        """Parse text with each format in turn; values already of the right type pass through.

        :raises ValueError: naming the value and the formats tried, when none fits.
        """
        if not value:
            return None
        if isinstance(value, self.value_type):
            return value
        formats = self.formats
        if isinstance(value, str):
            text = value.strip()
            for candidate in formats:
                try:
                    return self._from_datetime(datetime.strptime(text, candidate))
                except ValueError as exc:
                    logger.debug(str(exc))
            parsed = self._parse_fallback(text)
            if parsed is not None:
                return parsed
        detail = gettext("%(value)s is not %(expected)s in any of the formats %(formats)s") % {
            "value": repr(shorten_value(value)),
            "expected": self.expected,
            "formats": ", ".join(repr(f) for f in formats),
        }
        raise _with_detail(ValueError(str(_PARSE_FAILED)), detail)

    def _from_datetime(self, parsed: datetime) -> Any:
        """Narrow what ``strptime`` returned to the widget's type."""
        return parsed

    def clean(self, value: Any, row: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """Return a value of the widget's type (one passed in is returned as is), or None if
        empty.

        :raises ValueError: when the text matches none of the formats.
        """
        return self._parse(value)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        """Return the value as text in the first format ("" for anything not of the widget's
        type), or the value itself when native values are asked for."""
        _warn_if_obj_passed(obj)
        if _wants_native(self, kwargs):
            return value
        if not value or not isinstance(value, self.value_type):
            return ""
        return self._format(value)

    def _format(self, value: Any) -> str:
        """The text of a value of the widget's type in the render format."""
        return format_datetime(value, self._render_format())

    def _parse_fallback(self, text: str) -> Any:
        """A last parser tried when no format matched; None when it does not match either."""
        return None


class DateWidget(_TemporalWidget):
    """Converts to and from ``date``.

    Without ``format``, ``settings.DATE_INPUT_FORMATS`` is used (or ``"%Y-%m-%d"``).
    """

    formats_setting = "DATE_INPUT_FORMATS"
    default_format = "%Y-%m-%d"
    expected = _("a date")
    value_type = date

    def _from_datetime(self, parsed: datetime) -> date:
        return parsed.date()


class DateTimeWidget(_TemporalWidget):
    """Converts to and from ``datetime``, honouring ``USE_TZ``.

    Without ``format``, ``settings.DATETIME_INPUT_FORMATS`` is used (or
    ``"%Y-%m-%d %H:%M:%S"``); ISO 8601 text, such as an offset-carrying timestamp, is accepted
    too when no format matches.
    """

    formats_setting = "DATETIME_INPUT_FORMATS"
    default_format = "%Y-%m-%d %H:%M:%S"
    expected = _("a date and time")
    value_type = datetime

    def _parse_fallback(self, text: str) -> datetime | None:
        if self._explicit_formats:
            return None
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None

    def clean(self, value: Any, row: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """Return a datetime, or None if empty.

        With ``USE_TZ`` a naive result is taken to be in the current time zone and made aware;
        an aware value keeps its own offset.

        :raises ValueError: when the text matches none of the formats.
        """
        parsed = self._parse(value)
        needs_zone = parsed is not None and settings.USE_TZ and timezone.is_naive(parsed)
        return timezone.make_aware(parsed) if needs_zone else parsed

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        """Return the datetime in the current time zone, as text in the first format.

        Without coercion the (aware) datetime is returned; with ``force_native_type`` it is
        returned naive, because spreadsheet cells cannot hold a time zone. Anything that is not
        a datetime, None included, renders as "".
        """
        _warn_if_obj_passed(obj)
        if not value or not isinstance(value, datetime):
            return ""
        # A naive datetime has no zone to convert from, so it is shown as it is rather than
        # failing the whole export.
        if settings.USE_TZ and value.utcoffset() is not None:
            context = kwargs.get("render_context")
            if context is None:
                value = timezone.localtime(value)
            elif context.time_zone is not None:
                value = value.astimezone(context.time_zone)
        if kwargs.get("force_native_type"):
            return value.replace(tzinfo=None)
        if not self.coerce_to_string:
            return value
        return format_datetime(value, self._render_format())


class TimeWidget(_TemporalWidget):
    """Converts to and from ``time``.

    Without ``format``, ``settings.TIME_INPUT_FORMATS`` is used (or ``"%H:%M:%S"``).
    """

    formats_setting = "TIME_INPUT_FORMATS"
    default_format = "%H:%M:%S"
    expected = _("a time")
    value_type = time

    def _from_datetime(self, parsed: datetime) -> time:
        return parsed.time()

    def _format(self, value: time) -> str:
        return value.strftime(self._render_format())


class DurationWidget(Widget):
    """Converts to and from ``timedelta``, in the text forms Django's ``parse_duration`` reads."""

    def clean(self, value: Any, row: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """Return a timedelta, or None if empty.

        :raises ValueError: when the text is not a duration (upstream returned None silently
            for unparseable text, losing the value).
        """
        if isinstance(value, timedelta):
            return value
        if not value:
            return None
        parsed = None
        if isinstance(value, str):
            try:
                parsed = parse_duration(value.strip())
            except (TypeError, ValueError) as exc:
                logger.debug(str(exc))
        if parsed is None:
            detail = gettext(
                "%(value)s is not a duration (expected e.g. '1 day, 2:03:04', '2:03:04' or "
                "ISO 8601 'P1DT2H3M4S')"
            ) % {"value": repr(shorten_value(value))}
            raise _with_detail(ValueError(gettext("Value could not be parsed.")), detail)
        return parsed

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        """Return the duration as text ("" for anything else), or the timedelta itself."""
        _warn_if_obj_passed(obj)
        if _wants_native(self, kwargs):
            return value
        if type(value) is not timedelta:
            return ""
        return str(value)


class SimpleArrayWidget(Widget):
    """Converts between a separated string and a list, e.g. for PostgreSQL's ArrayField.

    :param separator: defaults to ``","``.
    """

    def __init__(self, separator: str | None = None, coerce_to_string: bool = True) -> None:
        self.separator = "," if separator is None else separator
        super().__init__(coerce_to_string=coerce_to_string)

    def clean(self, value: Any, row: Mapping[str, Any] | None = None, **kwargs: Any) -> list:
        """Return the list of parts (``[]`` when empty); a list or tuple is returned as a list."""
        if not value:
            return []
        if isinstance(value, (list, tuple)):
            return list(value)
        return force_str(value).split(self.separator)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        """Return the items joined by the separator, or the list itself without coercion.

        None renders as "" when coercing and as None otherwise.
        """
        _warn_if_obj_passed(obj)
        if not self.coerce_to_string:
            return value
        if value is None:
            return ""
        return self.separator.join(str(item) for item in value)


class JSONWidget(Widget):
    """Converts between JSON text and Python data, e.g. for a JSONField.

    Text written with single quotes (a Python ``repr``) is accepted too.
    """

    def clean(self, value: Any, row: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """Return the decoded data, or None for an empty cell.

        Data that is already decoded (a dict, list or number from a JSON or YAML file) is
        returned as is.

        :raises json.JSONDecodeError: (a ValueError) when it is not JSON, with the json
            module's message, as upstream; ``detail`` names the value.
        """
        if not value:
            return None
        if isinstance(value, (dict, list, int, float)):
            return value
        if not isinstance(value, str):
            message = f"the JSON object must be str, bytes or bytearray, not {type(value).__name__}"
            detail = gettext("Value %(value)s is not JSON text") % {
                "value": repr(shorten_value(value))
            }
            raise _with_detail(ValueError(message), detail)
        try:
            return json.loads(value)
        except json.JSONDecodeError as first_error:
            try:
                return json.loads(value.replace("'", '"'))
            except json.JSONDecodeError as second_error:
                detail = gettext("Value %(value)s is not valid JSON (%(reason)s)") % {
                    "value": repr(shorten_value(value)),
                    "reason": first_error.msg,
                }
                raise _with_detail(second_error, detail) from first_error

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str | None:
        """Return the value as JSON text, whatever ``coerce_to_string`` says.

        Empty data (None, {}, [], "", and also 0 and false) renders as None, exactly as
        upstream does, so exports match upstream's cell for cell.
        """
        _warn_if_obj_passed(obj)
        if not value:
            return None
        return json.dumps(value)


def _field_at_path(model: type[Model], path: str) -> Any:
    """The model field a lookup path such as ``"author__name"`` or ``"pk"`` ends at.

    :raises FieldDoesNotExist: when a step of the path is not a field.
    """
    field = None
    current = model
    for step in path.split(LOOKUP_SEP):
        if current is None:
            raise FieldDoesNotExist(f"{path!r} goes past a field that is not a relation")
        field = current._meta.pk if step == "pk" else current._meta.get_field(step)
        current = field.related_model
    return field


def _describe_lookup(lookup: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}={shorten_value(value)!r}" for name, value in lookup.items())


class ForeignKeyWidget(Widget):
    """Converts between a related instance and one of its values, by default its primary key.

    :param model: the related model.
    :param field: the field of the related model that identifies an instance, on import and
        export; it may follow relations, e.g. ``"author__name"``.
    :param use_natural_foreign_keys: identify instances by their natural key, written as a JSON
        list (the model needs ``natural_key()`` and a manager with ``get_by_natural_key()``).
    :param key_is_id: the value is the related instance's primary key itself (e.g. the field's
        attribute is ``author_id``): ``clean`` returns the pk and ``render`` the raw value.
    """

    def __init__(
        self,
        model: type[Model],
        field: str = "pk",
        use_natural_foreign_keys: bool = False,
        key_is_id: bool = False,
        **kwargs: Any,
    ) -> None:
        if use_natural_foreign_keys is True and key_is_id is True:
            raise WidgetError(_("use_natural_foreign_keys and key_is_id cannot both be True"))
        self.model = model
        self.field = field
        self.use_natural_foreign_keys = use_natural_foreign_keys
        self.key_is_id = key_is_id
        super().__init__(**kwargs)

    def get_queryset(self, value: Any, row: Mapping[str, Any] | None, *args: Any, **kwargs: Any):
        """The instances the imported value may refer to; override to narrow the choice.

        An override may use the row, e.g. to look a person up by first and last name.
        """
        return self.model._default_manager.all()

    def get_lookup_kwargs(
        self, value: Any, row: Mapping[str, Any] | None, **kwargs: Any
    ) -> dict[str, Any]:
        """The filter that identifies the instance for ``value``; override to match on more."""
        return {self.field: value}

    def clean(self, value: Any, row: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """Return the related instance (or its pk with ``key_is_id``), or None for an empty cell.

        :raises ObjectDoesNotExist: the model's ``DoesNotExist``, naming the lookup, when no
            instance matches (``MultipleObjectsReturned`` when several do).
        """
        if _is_blank(value):
            return None
        if self.use_natural_foreign_keys:
            return self.get_instance_by_natural_key(value)
        instance = self.get_instance_by_lookup_fields(value, row, **kwargs)
        return instance.pk if self.key_is_id else instance

    def get_instance_by_natural_key(self, value: Any) -> Model:
        """Fetch the instance whose natural key is ``value``.

        The key is normally a JSON list, as ``render`` writes it; a bare value that is not
        JSON, or is a JSON string, is taken as a key of one part.
        """
        manager = self.model._default_manager
        if not hasattr(manager, "get_by_natural_key"):
            raise WidgetError(
                gettext(
                    "%(model)s cannot be looked up by natural key: its default manager has no "
                    "get_by_natural_key() method"
                )
                % {"model": self.model.__name__}
            )
        key = _natural_key_parts(value)
        try:
            return manager.get_by_natural_key(*key)
        except (ObjectDoesNotExist, MultipleObjectsReturned) as exc:
            # Django's own message stays; the key that failed goes beside it.
            exc.lookup = {"natural_key": list(key)}
            _with_detail(exc, f"{exc} (natural key {list(key)!r})")
            raise

    def get_instance_by_lookup_fields(
        self, value: Any, row: Mapping[str, Any] | None, **kwargs: Any
    ) -> Model:
        """Fetch the one instance matching ``get_lookup_kwargs`` in ``get_queryset``."""
        lookup = self.get_lookup_kwargs(value, row, **kwargs)
        queryset = self.get_queryset(value, row, **kwargs)
        try:
            return queryset.get(**lookup)
        except (ObjectDoesNotExist, MultipleObjectsReturned) as exc:
            # Django's own message ("Author matching query does not exist.") is what upstream
            # shows and what downstream tests compare; the lookup goes beside it.
            _attach_lookup(exc, lookup)
            raise

    def _render_path(self) -> tuple[str, ...]:
        """``field`` split into attribute names, split again only when ``field`` changes."""
        cached = self.__dict__.get("_split_field")
        if cached is None or cached[0] != self.field:
            cached = (self.field, tuple(self.field.split(LOOKUP_SEP)))
            self._split_field = cached
        return cached[1]

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        """Return the identifying value of the related instance, as a native value.

        The path in ``field`` is followed with attribute access, so an instance that was
        ``select_related`` renders without a query. With natural keys the key is returned as a
        JSON list. None renders as ""; a path that meets None (or a missing relation) gives
        None. ``coerce_to_string`` has no effect here, as upstream.
        """
        _warn_if_obj_passed(obj)
        if self.key_is_id or value is None:
            # An id column already holds the key; an empty relation renders as an empty cell.
            return value or ""
        if self.use_natural_foreign_keys:
            return self._render_natural_key(value)
        return self._follow_render_path(value)

    def _follow_render_path(self, related: Any) -> Any:
        """Walk ``field`` (``"author__name"``) from the related object; None where it breaks.

        Django raises ``ValueError`` for relations of an unsaved object and
        ``ObjectDoesNotExist`` for a missing reverse one-to-one: both mean "no value".
        """
        reached = related
        for attribute in self._render_path():
            try:
                reached = getattr(reached, attribute, None)
            except (ValueError, ObjectDoesNotExist):
                reached = None
            if reached is None:
                break
        return reached

    def _render_natural_key(self, value: Any) -> str:
        natural_key = getattr(value, "natural_key", None)
        if natural_key is None:
            raise WidgetError(
                gettext(
                    "%(model)s has no natural_key() method, so it cannot be exported with "
                    "use_natural_foreign_keys=True"
                )
                % {"model": type(value).__name__}
            )
        return json.dumps(natural_key())


def _natural_key_parts(value: Any) -> tuple:
    if isinstance(value, (list, tuple)):
        return tuple(value)
    if not isinstance(value, str):
        return (value,)
    try:
        decoded = json.loads(value)
    except json.JSONDecodeError:
        return (value,)
    if isinstance(decoded, list):
        return tuple(decoded)
    return (decoded,) if isinstance(decoded, str) else (value,)


def _attach_lookup(error: Exception, lookup: Mapping[str, Any]) -> Exception:
    """Record the failed lookup on a "does not exist"/"more than one" error, keeping its text.

    ``error.lookup`` is the filter (``{"pk": "74"}``); ``error.detail`` is the message followed
    by the lookup, e.g. ``Author matching query does not exist. (pk='74')``.
    """
    error.lookup = dict(lookup)
    return _with_detail(error, f"{error} ({_describe_lookup(lookup)})")


def _no_match_error(model: type[Model], lookup: Mapping[str, Any]) -> Exception:
    """The error Django's ``QuerySet.get()`` raises when nothing matches, with its text."""
    message = f"{model._meta.object_name} matching query does not exist."
    return _attach_lookup(model.DoesNotExist(message), lookup)


def _many_matches_error(model: type[Model], lookup: Mapping[str, Any], count: int) -> Exception:
    """The error Django's ``QuerySet.get()`` raises for several matches, with its text."""
    message = f"get() returned more than one {model._meta.object_name} -- it returned {count}!"
    return _attach_lookup(model.MultipleObjectsReturned(message), lookup)


class _LookupIndex:
    """The instances of one queryset, grouped by the values of some lookup names.

    Built with one query. Values are compared after the model field's ``to_python``, so "7"
    finds pk 7 and "1.50" finds Decimal("1.5"), much as the database would compare them.
    Names may be fields, paths across relations (fetched by the same query as annotations),
    or annotations the queryset already has (compared as text).
    """

    def __init__(self, queryset: QuerySet, names: tuple[str, ...]) -> None:
        self.model = queryset.model
        self.names = names
        readers = []
        converters = []
        for position, name in enumerate(names):
            if name in queryset.query.annotations:
                readers.append(attrgetter(name))
                converters.append(_text_key)
                continue
            field = self._field_named(name)
            converters.append(partial(_field_key, field))
            if LOOKUP_SEP in name:
                alias = f"import_export_lookup_{position}"
                queryset = queryset.annotate(**{alias: F(name)})
                readers.append(attrgetter(alias))
            else:
                readers.append(attrgetter("pk" if name == "pk" else field.attname))
        self._converters = tuple(converters)
        self._groups: dict[tuple, list[Model]] = {}
        for instance in queryset:
            key = tuple(
                convert(read(instance))
                for read, convert in zip(readers, self._converters, strict=True)
            )
            self._groups.setdefault(key, []).append(instance)

    def _field_named(self, name: str) -> Any:
        """The model field whose values ``name`` compares, or a WidgetError saying why not."""
        try:
            field = _field_at_path(self.model, name)
        except FieldDoesNotExist as exc:
            raise WidgetError(
                gettext(
                    "CachedForeignKeyWidget cannot look up %(model)s by %(name)s: it compares in "
                    "memory, so lookups must name fields (or annotations), not expressions such "
                    "as '__iexact'"
                )
                % {"model": self.model.__name__, "name": repr(name)}
            ) from exc
        if field.many_to_many or field.one_to_many:
            raise WidgetError(
                gettext(
                    "CachedForeignKeyWidget cannot look up %(model)s by %(name)s: it is a "
                    "many-valued relation; name a field of the related model instead"
                )
                % {"model": self.model.__name__, "name": repr(name)}
            )
        return field

    def find(self, lookup: Mapping[str, Any]) -> list[Model]:
        key = tuple(
            convert(lookup[name])
            for name, convert in zip(self.names, self._converters, strict=True)
        )
        return self._groups.get(key, [])


_NO_MATCH = object()


def _field_key(field: Any, value: Any) -> Any:
    """The value as the model field would store it; a value it rejects matches nothing.

    A foreign key is compared by the key it stores, so an instance or its pk both match.
    """
    if isinstance(value, Model):
        value = value.pk
    if field.is_relation:
        field = field.target_field
    if value is None:
        return None
    try:
        return field.to_python(value)
    except (ValidationError, ValueError, TypeError):
        return (_NO_MATCH, str(value))


def _text_key(value: Any) -> Any:
    return None if value is None else str(value)


class _CachedQuerySetWrapper:
    """The rows of one queryset, read once, answering ``get(**lookup)`` from memory.

    ``CachedForeignKeyWidget`` keeps one in ``_cached_qs`` (upstream's names, which code may
    check or clear).  Each set of lookup names gets its own :class:`_LookupIndex`, built with
    one query the first time it is used; errors carry Django's ``get()`` messages.
    """

    def __init__(self, queryset: QuerySet) -> None:
        self.queryset = queryset
        self.model = queryset.model
        self._indexes: dict[tuple[str, ...], _LookupIndex] = {}

    def get(self, **lookup_fields: Any) -> Model:
        """The one instance matching ``lookup_fields``, as ``QuerySet.get()`` would return it."""
        names = tuple(sorted(lookup_fields))
        index = self._indexes.get(names)
        if index is None:
            index = self._indexes[names] = _LookupIndex(self.queryset, names)
        matches = index.find(lookup_fields)
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise _no_match_error(self.model, lookup_fields)
        raise _many_matches_error(self.model, lookup_fields, len(matches))

    def _get_instances(self, queryset: QuerySet, key_cls: type) -> dict[Any, list[Model]]:
        """Upstream's grouping: ``key_cls`` (a namedtuple of field names) of text values ->
        the instances with those values.  Kept for subclasses that call it; ``get`` does not.
        """
        if not hasattr(self, "_instances"):
            self._instances: dict[Any, list[Model]] = {}
            for instance in queryset:
                key = key_cls(**{name: str(getattr(instance, name)) for name in key_cls._fields})
                self._instances.setdefault(key, []).append(instance)
        return self._instances


class CachedForeignKeyWidget(ForeignKeyWidget):
    """A ForeignKeyWidget for imports that reads the related table once and looks up in memory.

    ``get_queryset`` is called once, for the first value, so it must not depend on the row;
    lookups returned by ``get_lookup_kwargs`` must name fields (paths across relations are
    fine), not expressions such as ``name__iexact``. Comparisons happen in Python, so
    database-specific matching (case-insensitive collations, for example) does not apply.
    Instances created after the first lookup are not seen until ``clear_cache()`` is called.
    Natural-key lookups are not cached.
    """

    def clear_cache(self) -> None:
        """Forget the loaded instances, so the next lookup reads the table again."""
        self.__dict__.pop("_cached_qs", None)

    def _contains_relations(self) -> bool:
        """Whether ``field`` follows a relation (``"author__name"``)."""
        return LOOKUP_SEP in self.field

    def get_instance_by_lookup_fields(
        self, value: Any, row: Mapping[str, Any] | None, **kwargs: Any
    ) -> Model:
        if not hasattr(self, "_cached_qs"):
            self._cached_qs = _CachedQuerySetWrapper(self.get_queryset(value, row, **kwargs))
        return self._cached_qs.get(**self.get_lookup_kwargs(value, row, **kwargs))


class ManyToManyWidget(Widget):
    """Converts between a separated list of identifying values and the related instances.

    :param model: the related model.
    :param separator: defaults to ``","``.
    :param field: the field of the related model written and looked up; defaults to ``"pk"``.
    """

    def __init__(
        self,
        model: type[Model],
        separator: str | None = None,
        field: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.model = model
        self.separator = "," if separator is None else separator
        self.field = "pk" if field is None else field
        super().__init__(**kwargs)

    def clean(self, value: Any, row: Mapping[str, Any] | None = None, **kwargs: Any) -> QuerySet:
        """Return a queryset of the instances whose ``field`` is one of the listed values.

        Blank items (e.g. after a trailing separator) are skipped; values matching nothing are
        ignored, as upstream does. An empty cell gives an empty queryset.
        """
        if not value:
            return self.model._default_manager.none()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            keys = [int(value)]
        elif isinstance(value, (list, tuple, set)):
            keys = [item for item in value if not _is_blank(item)]
        else:
            keys = [part.strip() for part in force_str(value).split(self.separator)]
            keys = [part for part in keys if part]
        return self.model._default_manager.filter(**{f"{self.field}__in": keys})

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        """Return the related instances' ``field`` values joined by the separator.

        ``value`` is a related manager (its prefetched instances are used when present) or any
        iterable of instances. None renders as "". ``coerce_to_string`` has no effect.
        """
        _warn_if_obj_passed(obj)
        if value is None:
            return ""
        instances = value.all() if hasattr(value, "all") else value
        field = self.field
        return self.separator.join(smart_str(getattr(item, field)) for item in instances)
