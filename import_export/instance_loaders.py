"""Instance loaders find the existing object, if any, that an import row should update.

A resource names its loader in ``Meta.instance_loader_class``; the import creates one loader per
dataset, so a loader may prepare itself from the whole dataset before the first row is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections


class BaseInstanceLoader:
    """The interface: given a row, return the matching instance or ``None``."""

    def __init__(self, resource: Any, dataset: Any = None) -> None:
        self.resource = resource
        self.dataset = dataset

    def get_instance(self, row: Mapping) -> Any:
        raise NotImplementedError


class ModelInstanceLoader(BaseInstanceLoader):
    """Looks each row up in the resource's queryset by the resource's ``import_id_fields``."""

    def get_queryset(self):
        return self.resource.get_queryset()

    def _id_fields(self) -> list:
        """The resource fields named by ``import_id_fields``; none if one of them is missing,
        since a partial key could match the wrong object."""
        names = list(self.resource.get_import_id_fields())
        if any(name not in self.resource.fields for name in names):
            return []
        return [self.resource.fields[name] for name in names]

    def get_instance(self, row: Mapping) -> Any:
        lookup = {field.attribute: field.clean(row) for field in self._id_fields()}
        if not lookup or _is_empty_primary_key(self.resource, lookup):
            # A row without an id can only be new; asking the database would be a wasted query.
            return None
        model = self.resource._meta.model
        try:
            return self.get_queryset().get(**lookup)
        except model.DoesNotExist:
            return None


def _is_empty_primary_key(resource: Any, lookup: Mapping[str, Any]) -> bool:
    """True when the only lookup is the primary key and the row gave no value for it."""
    if len(lookup) != 1:
        return False
    ((attribute, value),) = lookup.items()
    pk = resource._meta.model._meta.pk
    return value is None and attribute in {"pk", pk.name, pk.attname}


class CachedInstanceLoader(ModelInstanceLoader):
    """Fetches every instance the dataset refers to up front, in one query.

    Importing N rows with :class:`ModelInstanceLoader` costs N lookups; this loader costs one
    (split only where the database limits the number of query parameters).

    ``all_instances`` maps a key to its instance. With one id field (the usual case) the key is
    that field's value itself, as code written for django-import-export reads it (e.g.
    ``loader.all_instances[pk]``); with several ``import_id_fields`` it is the tuple of their
    values, so composite keys work too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.id_fields = self._id_fields()
        #: The first id field, kept under the name older code reads.
        self.pk_field = self.id_fields[0] if self.id_fields else None
        self.all_instances: dict[Any, Any] = {}
        if self.id_fields and self._dataset_has_id_columns():
            self.all_instances = self._load_instances(self._keys_in_dataset())

    def _dataset_has_id_columns(self) -> bool:
        headers = getattr(self.dataset, "headers", None) or []
        return all(field.column_name in headers for field in self.id_fields)

    def _rows(self) -> Iterable[Mapping]:
        headers = self.dataset.headers
        for values in self.dataset:
            yield dict(zip(headers, values))

    def _keys_in_dataset(self) -> set:
        """The id values of every row; rows whose ids cannot be cleaned are left to fail later,
        on their own row, with a row-level error."""
        keys = set()
        for row in self._rows():
            try:
                key = self._key_from_row(row)
            except (ValueError, ValidationError, LookupError, TypeError, ArithmeticError):
                continue
            if all(value is not None for value in self._key_parts(key)):
                keys.add(key)
        return keys

    def _as_key(self, values: tuple) -> Any:
        """The cache key for the id values of one record: the value itself for a single id
        field, the tuple for a composite key."""
        return values[0] if len(values) == 1 else values

    def _key_parts(self, key: Any) -> tuple:
        """The inverse of :meth:`_as_key`: the id values held by ``key``."""
        return (key,) if len(self.id_fields) == 1 else key

    def _key_from_row(self, row: Mapping) -> Any:
        return self._as_key(
            tuple(self._normalise(field, field.clean(row)) for field in self.id_fields)
        )

    def _key_from_instance(self, instance: Any) -> Any:
        return self._as_key(
            tuple(self._normalise(field, field.get_value(instance)) for field in self.id_fields)
        )

    def _normalise(self, field: Any, value: Any) -> Any:
        """Convert ``value`` to the model field's Python type so that a key read from a file
        (e.g. a UUID as text) equals the key read from the database."""
        if value is None:
            return None
        model_field = _model_field(self.resource._meta.model, field.attribute)
        if model_field is None:
            return value
        try:
            return model_field.to_python(value)
        except (ValidationError, TypeError, ValueError):
            return value

    def _load_instances(self, keys: set) -> dict[Any, Any]:
        if not keys:
            return {}
        instances: dict[Any, Any] = {}
        queryset = self.get_queryset()
        parts = [self._key_parts(key) for key in keys]
        per_field_values = [
            list({part[position] for part in parts}) for position in range(len(self.id_fields))
        ]
        for chunk in self._chunks(per_field_values):
            filters = {
                f"{field.attribute}__in": values for field, values in zip(self.id_fields, chunk)
            }
            for instance in queryset.filter(**filters):
                key = self._key_from_instance(instance)
                if key in keys:
                    instances[key] = instance
        return instances

    def _chunks(self, per_field_values: list[list]) -> Iterable[list[list]]:
        """Split the lookup only when the database caps the number of query parameters.

        Only a single-field key is split: for a composite key each query must see every value
        of the other fields, and such keys are rare enough that one query per chunk of the first
        field is not worth the complexity.
        """
        limit = self._max_query_params()
        if limit is None or len(self.id_fields) != 1 or len(per_field_values[0]) <= limit:
            yield per_field_values
            return
        values = per_field_values[0]
        for start in range(0, len(values), limit):
            yield [values[start : start + limit]]

    def _max_query_params(self) -> int | None:
        alias = self.get_queryset().db
        return getattr(connections[alias].features, "max_query_params", None)

    def get_instance(self, row: Mapping) -> Any:
        if not self.all_instances:
            return None
        return self.all_instances.get(self._key_from_row(row))


def _model_field(model: Any, attribute: str | None):
    if not attribute or "__" in attribute:
        return None
    try:
        return model._meta.get_field(attribute)
    except FieldDoesNotExist:
        return None
