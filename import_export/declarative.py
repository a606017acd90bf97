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


def _field_attribute_names(attrs: dict):
    return (key for key, value in attrs.items() if isinstance(value, Field))


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


def _inherit_from_resource_bases(bases: tuple, meta: ResourceOptions) -> list[tuple[str, Field]]:
    """The fields of the resource bases, and their ``Meta`` options applied to ``meta``.

    Bases are visited right to left, each one's fields going in front of those collected so
    far, so the leftmost base's fields lead. A base's own parents' options are applied before
    the base's, so that the closer class wins.
    """
    fields: list[tuple[str, Field]] = []
    for base in reversed([base for base in bases if hasattr(base, "fields")]):
        fields[:0] = base.fields.items()
        for option_source in (*base.__bases__, base):
            _apply_meta(meta, option_source)
    return fields


def _finish_options(meta: ResourceOptions, new_class) -> ResourceOptions:
    """Apply the new class's ``Meta`` last, so it overrides what its bases set.

    Read through the class, so a class without a ``Meta`` of its own applies the nearest
    inherited one again (upstream behaves the same way).
    """
    _apply_meta(meta, new_class)
    return meta


class DeclarativeMetaclass(type):
    """Collects declared fields and ``Meta`` options, including those of base resources."""

    def __new__(mcs, name, bases, attrs):
        meta = ResourceOptions()
        inherited = _inherit_from_resource_bases(bases, meta)
        attrs["fields"] = dict(inherited + _pop_declared_fields(attrs))
        new_class = super().__new__(mcs, name, bases, attrs)
        new_class._meta = _finish_options(meta, new_class)
        return new_class


class ModelDeclarativeMetaclass(DeclarativeMetaclass):
    """Adds the fields of ``Meta.model`` to the declared ones."""

    def __new__(mcs, name, bases, attrs):
        # Taken before the parent metaclass pops the Field attributes out of the body.
        own_names = set(_field_attribute_names(attrs))
        new_class = super().__new__(mcs, name, bases, attrs)
        opts = new_class._meta
        # Model resources look rows up in the database unless told otherwise.
        opts.instance_loader_class = opts.instance_loader_class or ModelInstanceLoader
        if opts.model:
            declared = _whitelisted_declared_fields(new_class, own_names, name)
            model_fields = _model_fields(new_class, declared)
            new_class.fields = {**model_fields, **declared}
            new_class.fields.update(_relation_path_fields(new_class, declared))
        return new_class


def _whitelisted_declared_fields(resource_class, own_names: set[str], class_name: str) -> dict:
    """Declared fields allowed by ``Meta.fields``; warns about the class's own left-out ones."""
    whitelist = resource_class._meta.fields
    if whitelist is None:
        return dict(resource_class.fields)
    kept = {}
    for field_name, field in resource_class.fields.items():
        if field_name in whitelist or field.column_name in whitelist:
            kept[field_name] = field
        elif field_name in own_names:
            # Only this class's own declarations warn; inherited ones were chosen elsewhere.
            # The wording is upstream's, which callers filter warnings on.
            message = (
                f"{class_name}: ignoring field '{field_name}' because not declared in 'fields' "
                "whitelist"
            )
            warnings.warn(message, stacklevel=3)
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


def _path_step(model, name: str, shown: str):
    """``model``'s field ``name``; the error names the whole path walked so far (``shown``)."""
    lookup_error = None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist as error:
        lookup_error = error
    logger.debug(lookup_error, exc_info=lookup_error)
    raise FieldDoesNotExist(
        f"{shown}: {model.__name__} has no field named '{name}'"
    ) from lookup_error


def _resolve_relation_path(model, path: str):
    """The Django field at the end of ``path`` (``author__name``), checking every step."""
    parts = path.split("__")
    current = model
    django_field = None
    for index, part in enumerate(parts):
        shown = ".".join([model.__name__, *parts[: index + 1]])
        django_field = _path_step(current, part, shown)
        if index < len(parts) - 1:
            related = get_related_model(django_field)
            if related is None:
                raise KeyError(f"{shown} is not a relation")
            current = related
    if isinstance(django_field, ForeignObjectRel):
        django_field = django_field.field
    return django_field
