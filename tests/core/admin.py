"""Admin of the test project: one model per flavour of the import/export admin classes.

The admin tests and the browser tests drive these registrations, so each model shows one way of
using the package (both directions, import only, export only, export as an action...).
"""

from django.contrib import admin

from import_export import fields, resources, widgets
from import_export.admin import (
    ExportActionModelAdmin,
    ExportMixin,
    ImportExportActionModelAdmin,
    ImportExportModelAdmin,
    ImportMixin,
)

from .models import (
    AllTypes,
    Author,
    Book,
    Category,
    Magazine,
    Package,
    Publisher,
    Repository,
    Restaurant,
    UUIDBook,
)
from .resources import PackageResource


class BookResource(resources.ModelResource):
    """Books with the author given by name, so a file can be written by hand."""

    author = fields.Field(
        attribute="author",
        column_name="author",
        widget=widgets.ForeignKeyWidget(Author, "name"),
    )

    class Meta:
        model = Book
        fields = ("id", "name", "author", "author_email", "published", "price")


class BookNameResource(resources.ModelResource):
    """A second resource for the same model, to exercise the resource choice."""

    class Meta:
        model = Book
        fields = ("id", "name")
        name = "Export/Import only book names"


@admin.register(Book)
class BookAdmin(ImportExportModelAdmin):
    """Import and export buttons, two resources, filters and search on the change list."""

    resource_classes = [BookResource, BookNameResource]
    list_display = ("name", "author", "price", "published")
    list_filter = ("author", "imported")
    search_fields = ("name",)


@admin.register(Author)
class AuthorAdmin(ImportExportActionModelAdmin):
    """Import button, export as an action and from the change form; default resource.

    The birthday filter and the search let "Select all N" be tried on a narrowed change list."""

    search_fields = ("name",)
    list_filter = ("birthday",)


@admin.register(Category)
class CategoryAdmin(ExportActionModelAdmin):
    """Export only as an action (no import)."""


@admin.register(Publisher)
class PublisherAdmin(ImportMixin, admin.ModelAdmin):
    """Import only."""


@admin.register(Magazine)
class MagazineAdmin(ExportMixin, admin.ModelAdmin):
    """Export only, from the change list button."""

    list_filter = ("publisher",)


@admin.register(UUIDBook)
class UUIDBookAdmin(ExportActionModelAdmin):
    """Export action on a model whose primary keys are UUIDs."""


@admin.register(Repository)
class RepositoryAdmin(ImportExportModelAdmin):
    pass


@admin.register(Package)
class PackageAdmin(ImportExportModelAdmin):
    """The large, pulpcore-shaped table used to show memory-bounded streamed exports."""

    resource_classes = [PackageResource]
    list_filter = ("repository", "arch")
    search_fields = ("name",)


@admin.register(AllTypes)
class AllTypesAdmin(ImportExportModelAdmin):
    pass


@admin.register(Restaurant)
class RestaurantAdmin(ImportExportModelAdmin):
    pass
