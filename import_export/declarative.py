"""Metaclasses turning a resource class body (``Meta`` plus declared fields) into ordered fields.

Rules (the ones django-import-export users rely on):

* Declared fields of base classes come first, in base order, then the class's own.
* ``Meta`` options are inherited: bases' options are applied first, then the class's own.
* For a model resource, model fields come in model order (replacing a declared field of the same
  name in place), then the remaining declared fields; ``fields`` whitelists by field or column name,
  ``exclude`` removes; names in ``fields`` with ``__`` become read-only fields following relations.
"""

from __future__ import annotations

import logging
import warnings

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models.fields.related import ForeignObjectRel

from .fields import Field
from .instance_loaders import ModelInstanceLoader
from .options import ResourceOptions
from .utils import get_related_model

logger = logging.getLogger(__name__)


def _public_options(meta_class) -> dict:
    """The options a ``Meta`` class sets (names not starting with ``_``)."""
    if meta_class is None:
        return {}
    return {
        name: getattr(meta_class, name)
        for name in dir(meta_class)
        if not name.startswith("_") and hasattr(meta_class, name)
    }


def _apply_meta(target: ResourceOptions, owner) -> None:
    """Copy the options of ``owner.Meta`` onto ``target``, resolving a ``"app.Model"`` string."""
    for name, value in _public_options(getattr(owner, "Meta", None)).items():
        if name == "model" and isinstance(value, str):
            value = apps.get_model(value)
        setattr(target, name, value)


def _pop_declared_fields(attrs: dict) -> list[tuple[str, Field]]:
    """Remove the Field attributes of a class body, naming unnamed columns after the attribute."""
    declared = []
    for name, value in list(attrs.items()):
        if isinstance(value, Field):
            attrs.pop(name)
            if not value.column_name:
                value.column_name = name
            declared.append((name, value))
    return declared


class DeclarativeMetaclass(type):
    """Collects declared fields and ``Meta`` options, including those of base resources."""

    def __new__(mcs, name, bases, attrs):
        inherited: list[tuple[str, Field]] = []
        meta = ResourceOptions()
        for base in reversed(bases):
            if not hasattr(base, "fields"):
                continue
            inherited = list(base.fields.items()) + inherited
            for grandparent in base.__bases__:
                _apply_meta(meta, grandparent)
            _apply_meta(meta, base)

        own = _pop_declared_fields(attrs)
        attrs["fields"] = dict(inherited + own)
        new_class = super().__new__(mcs, name, bases, attrs)
        _apply_meta(meta, new_class)
        new_class._meta = meta
        return new_class


class ModelDeclarativeMetaclass(DeclarativeMetaclass):
    """Adds the fields of ``Meta.model`` to the declared ones."""

    def __new__(mcs, name, bases, attrs):
        own_names = {key for key, value in attrs.items() if isinstance(value, Field)}
        new_class = super().__new__(mcs, name, bases, attrs)
        opts = new_class._meta
        if not opts.instance_loader_class:
            opts.instance_loader_class = ModelInstanceLoader
        if opts.model:
            declared = _whitelisted_declared_fields(new_class, own_names, name)
            model_fields = _model_fields(new_class, declared)
            new_class.fields = {**model_fields, **declared}
            new_class.fields.update(_relation_path_fields(new_class, declared))
        return new_class


def _whitelisted_declared_fields(resource_class, own_names: set[str], class_name: str) -> dict:
    """Declared fields allowed by ``Meta.fields``; warns about the class's own left-out ones."""
    whitelist = resource_class._meta.fields
    kept = {}
    for field_name, field in resource_class.fields.items():
        if whitelist is not None and field_name not in whitelist:
            if field.column_name not in whitelist:
                if field_name in own_names:
                    warnings.warn(
                        f"{class_name}: ignoring field '{field_name}' because "
                        "not declared in 'fields' whitelist",
                        stacklevel=3,
                    )
                continue
        kept[field_name] = field
    return kept


def _model_fields(resource_class, declared: dict) -> dict:
    """Model fields in model order; a declared field of the same name takes the model field's place.

    Declared fields used here are removed from ``declared`` so they are not listed twice.
    """
    opts = resource_class._meta
    model_meta = opts.model._meta
    result = {}
    for django_field in sorted(model_meta.fields + model_meta.many_to_many):
        field_name = django_field.name
        if opts.fields is not None and field_name not in opts.fields:
            continue
        if opts.exclude and field_name in opts.exclude:
            continue
        if field_name in declared:
            result[field_name] = declared.pop(field_name)
        else:
            result[field_name] = resource_class.field_from_django_field(
                field_name, django_field, readonly=False
            )
    return result


def _relation_path_fields(resource_class, declared: dict) -> dict:
    """Read-only fields for the ``a__b`` paths named in ``Meta.fields``."""
    opts = resource_class._meta
    if opts.fields is None:
        return {}
    result = {}
    for field_name in opts.fields:
        if field_name in declared or "__" not in field_name:
            continue
        django_field = _resolve_relation_path(opts.model, field_name)
        result[field_name] = resource_class.field_from_django_field(
            field_name, django_field, readonly=True
        )
    return result


def _resolve_relation_path(model, path: str):
    """The Django field at the end of ``path`` (``author__name``), checking every step."""
    parts = path.split("__")
    current = model
    django_field = None
    for index, part in enumerate(parts):
        shown = ".".join([model.__name__, *parts[: index + 1]])
        try:
            django_field = current._meta.get_field(part)
        except FieldDoesNotExist as error:
            logger.debug(error, exc_info=error)
            raise FieldDoesNotExist(f"{shown}: {current.__name__} has no field named '{part}'")
        if index < len(parts) - 1:
            related = get_related_model(django_field)
            if related is None:
                raise KeyError(f"{shown} is not a relation")
            current = related
    if isinstance(django_field, ForeignObjectRel):
        django_field = django_field.field
    return django_field
