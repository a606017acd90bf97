"""The import half of a resource (being written; see issue 4)."""


class ResourceImportMixin:
    """Import methods of :class:`import_export.resources.Resource`."""


class ModelResourceImportMixin:
    """Import methods that need a Django model, mixed into ModelResource."""
