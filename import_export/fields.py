"""A resource field: where a value lives on an object, its column in a file, how it converts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models.fields import NOT_PROVIDED
from django.db.models.manager import Manager

from . import widgets
from .exceptions import FieldError

#: Prefix of the resource method that, when defined, computes a field's exported value.
DEHYDRATE_METHOD_PREFIX = "dehydrate_"

# Exceptions that mean "the path cannot be followed on this object", so the value is None.
_UNREADABLE_ERRORS = (ValueError, ObjectDoesNotExist, KeyError)


class Field:
    """Maps one attribute of an object (possibly through ``a__b`` relations) to one column.

    ``attribute`` is the path read on export and written on import; ``column_name`` the header in
    the file; ``widget`` converts between the two representations.  A ``readonly`` field is
    exported but never written on import.  ``default`` replaces empty imported values.
    ``saves_null_values=False`` keeps the current value when the file gives none.
    ``dehydrate_method`` names (or is) the callable that computes the exported value.
    ``m2m_add`` adds imported many-to-many values instead of replacing them.
    """

    #: Values that count as "empty" when deciding whether ``default`` applies.
    empty_values = [None, ""]

    def __init__(
        self,
        attribute: str | None = None,
        column_name: str | None = None,
        widget: widgets.Widget | None = None,
        default: Any = NOT_PROVIDED,
        readonly: bool = False,
        saves_null_values: bool = True,
        dehydrate_method: str | Any | None = None,
        m2m_add: bool = False,
    ):
        self.attribute = attribute
        self.column_name = column_name
        self.widget = widget if widget is not None else widgets.Widget()
        self.default = default
        self.readonly = readonly
        self.saves_null_values = saves_null_values
        self.dehydrate_method = dehydrate_method
        self.m2m_add = m2m_add

    def __repr__(self) -> str:
        cls = type(self)
        named = "" if self.column_name is None else f": {self.column_name}"
        return f"<{cls.__module__}.{cls.__name__}{named}>"

    @property
    def attribute_path(self) -> tuple[str, ...]:
        """The attribute split on ``__``, computed once per distinct attribute value.

        Export reads this for every cell, so it is cached; the cache follows later assignments to
        ``attribute`` because it is keyed on the string itself.
        """
        cached = self.__dict__.get("_attribute_path")
        if cached is None or cached[0] != self.attribute:
            parts = tuple(self.attribute.split("__")) if self.attribute else ()
            cached = (self.attribute, parts)
            self.__dict__["_attribute_path"] = cached
        return cached[1]

    def clean(self, row, **kwargs) -> Any:
        """Read this field's column from an imported ``row`` and convert it through the widget."""
        value = self.widget.clean(self._cell(row), row=row, **kwargs)
        if self.default is NOT_PROVIDED or value not in self.empty_values:
            return value
        return self.default() if callable(self.default) else self.default

    def _cell(self, row) -> Any:
        """The raw value of this field's column; a missing column is a ``KeyError`` listing
        the columns the row does have (wording kept from upstream for callers matching it)."""
        try:
            return row[self.column_name]
        except KeyError:
            available = list(row)
        raise KeyError(
            f"Column '{self.column_name}' not found in dataset. Available columns are: {available}"
        )

    def get_value(self, instance) -> Any:
        """Follow ``attribute`` on ``instance``; ``None`` as soon as a step is missing.

        Dicts are read by key so that resources can export plain mappings. A callable at the
        end of the path is called, except related managers, which the widget renders.
        """
        path = self.attribute_path
        if not path:
            return None
        value = instance
        for name in path:
            try:
                value = value[name] if isinstance(value, dict) else getattr(value, name, None)
            except _UNREADABLE_ERRORS:
                value = None
            if value is None:
                break
        else:
            # Methods are called; managers are not (the widget renders the related objects).
            if callable(value) and not isinstance(value, Manager):
                value = value()
        return value

    def save(self, instance, row, is_m2m: bool = False, **kwargs) -> None:
        """Set the cleaned value from ``row`` on ``instance`` (unless the field is read-only)."""
        if self.readonly:
            return
        *parents, last = self.attribute_path
        target = instance
        for name in parents:
            target = getattr(target, name, None)
        cleaned = self.clean(row, **kwargs)
        if cleaned is None and not self.saves_null_values:
            return
        if not is_m2m:
            setattr(target, last, cleaned)
        elif self.m2m_add:
            getattr(target, last).add(*cleaned)
        else:
            getattr(target, last).set(cleaned)

    def export(self, instance, **kwargs) -> Any:
        """The exported cell for ``instance``: its value rendered by the widget."""
        return self.widget.render(self.get_value(instance), **kwargs)

    def get_dehydrate_method(self, field_name: str | None = None):
        """The name (or the callable) that computes this field's exported value."""
        if self.dehydrate_method:
            return self.dehydrate_method
        if not field_name:
            raise FieldError("Both dehydrate_method and field_name are not supplied.")
        return DEHYDRATE_METHOD_PREFIX + field_name
