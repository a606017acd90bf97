"""The examples of docs/advanced_resources.rst, run by tests/core/tests/test_manual_advanced.py.

The page includes these classes with ``literalinclude``, so what a reader sees is what the
test runs against the test project's models.
"""

from decimal import Decimal

from django.contrib.admin import AdminSite
from django.urls import path

from import_export import fields, instance_loaders, resources, widgets
from import_export.admin import ImportExportModelAdmin

from ..models import Author, Book, Category, Magazine, Publisher


# -- declaring fields ------------------------------------------------------------------------
class BookResource(resources.ModelResource):
    # A column with its own header, read from a related object, never imported.
    author_name = fields.Field(attribute="author__name", column_name="Author", readonly=True)
    # An empty cell on import gives the default instead of None.
    price = fields.Field(
        attribute="price",
        column_name="Price",
        widget=widgets.DecimalWidget(),
        default=Decimal("0.00"),
    )
    # Computed on export by a method named in dehydrate_method.
    shelf = fields.Field(column_name="Shelf", dehydrate_method="shelf_for")
    # Computed on export by dehydrate_<field name>.
    label = fields.Field(column_name="Label")

    class Meta:
        model = Book
        fields = ("id", "name", "author_name", "price", "published", "shelf", "label")
        export_order = ("id", "name", "label")
        widgets = {"published": {"format": "%d.%m.%Y"}}

    def shelf_for(self, book):
        return book.name[:1].upper()

    def dehydrate_label(self, book):
        author = book.author.name if book.author else "anonymous"
        return f"{book.name} by {author}"


# -- dynamic fields ----------------------------------------------------------------------------
class BookWithOptionalEmailResource(resources.ModelResource):
    """A field added in ``__init__``: the caller decides whether the column exists."""

    def __init__(self, with_email=False, **kwargs):
        super().__init__(**kwargs)
        if with_email:
            self.fields["author_email"] = fields.Field(
                attribute="author_email", column_name="email"
            )

    class Meta:
        model = Book
        fields = ("id", "name")


class PerUserBookResource(resources.ModelResource):
    """Fields chosen per request: only superusers export or import the price."""

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def may_see_prices(self):
        return self.user is not None and self.user.is_superuser

    def get_export_fields(self, selected_fields=None):
        export_fields = super().get_export_fields(selected_fields)
        if self.may_see_prices():
            return export_fields
        return [field for field in export_fields if field.attribute != "price"]

    def get_import_fields(self):
        import_fields = super().get_import_fields()
        if self.may_see_prices():
            return import_fields
        return [field for field in import_fields if field.attribute != "price"]

    def get_export_headers(self, selected_fields=None):
        return [header.upper() for header in super().get_export_headers(selected_fields)]

    class Meta:
        model = Book
        fields = ("id", "name", "price")


class PerUserBookAdmin(ImportExportModelAdmin):
    """Hands the request's user to the resource, on export and on import."""

    resource_classes = [PerUserBookResource]

    def get_resource_kwargs(self, request, **kwargs):
        return {**super().get_resource_kwargs(request, **kwargs), "user": request.user}


# The admin tests use this module as their URLconf, with the admin on its own site.
site = AdminSite()
site.register(Book, PerUserBookAdmin)
urlpatterns = [path("admin/", site.urls)]


# -- widgets -----------------------------------------------------------------------------------
class YesNoBooleanWidget(widgets.BooleanWidget):
    """Reads "yes"/"no" as well as the usual values, and writes "yes"/"no"."""

    TRUE_VALUES = [*widgets.BooleanWidget.TRUE_VALUES, "yes", "Yes"]
    FALSE_VALUES = [*widgets.BooleanWidget.FALSE_VALUES, "no", "No"]

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return "yes" if value else "no"


class CentsWidget(widgets.Widget):
    """A custom widget: prices travel as whole cents ("1999"), the model holds Decimal."""

    def clean(self, value, row=None, **kwargs):
        if value is None or str(value).strip() == "":
            return None
        return Decimal(int(value)) / 100

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return str(int(value * 100))


class CatalogueResource(resources.ModelResource):
    """Categories by name, separated by "|"; an imported flag; a date; a price in cents."""

    categories = fields.Field(
        attribute="categories",
        column_name="categories",
        widget=widgets.ManyToManyWidget(Category, separator="|", field="name"),
    )
    imported = fields.Field(
        attribute="imported", column_name="imported", widget=YesNoBooleanWidget()
    )
    published = fields.Field(
        attribute="published", column_name="published", widget=widgets.DateWidget("%d/%m/%Y")
    )
    price = fields.Field(attribute="price", column_name="cents", widget=CentsWidget())

    class Meta:
        model = Book
        fields = ("id", "name", "categories", "imported", "published", "price")


# -- natural keys and foreign keys by name -----------------------------------------------------
class MagazineByNameResource(resources.ModelResource):
    """The publisher travels as its name (``field="name"``)."""

    publisher = fields.Field(
        attribute="publisher",
        column_name="publisher",
        widget=widgets.ForeignKeyWidget(Publisher, field="name"),
    )

    class Meta:
        model = Magazine
        fields = ("id", "title", "issue", "publisher")


class MagazineNaturalKeyResource(resources.ModelResource):
    """Every foreign key travels as its natural key, a JSON list such as ``["Acme"]``."""

    class Meta:
        model = Magazine
        fields = ("id", "title", "issue", "publisher")
        use_natural_foreign_keys = True


class AuthorWithBirthdayWidget(widgets.ForeignKeyWidget):
    """Only authors whose birthday is known may be named; others are "does not exist"."""

    def get_queryset(self, value, row, *args, **kwargs):
        return Author.objects.filter(birthday__isnull=False)


class BookByKnownAuthorResource(resources.ModelResource):
    author = fields.Field(
        attribute="author",
        column_name="author",
        widget=AuthorWithBirthdayWidget(Author, field="name"),
    )

    class Meta:
        model = Book
        fields = ("id", "name", "author")


# -- instance loaders --------------------------------------------------------------------------
class CategoryByNameResource(resources.ModelResource):
    """Rows find their category by name, so an import without ids updates what exists."""

    class Meta:
        model = Category
        fields = ("name",)
        import_id_fields = ("name",)
        instance_loader_class = instance_loaders.CachedInstanceLoader


class CaseInsensitiveNameLoader(instance_loaders.ModelInstanceLoader):
    """A custom loader: "  fiction " finds the category "Fiction"."""

    def get_instance(self, row):
        name = (row.get("name") or "").strip()
        if not name:
            return None
        return self.get_queryset().filter(name__iexact=name).first()


class ForgivingCategoryResource(resources.ModelResource):
    # No "id" column: the loader finds the instance by name, and an imported empty id would
    # set the instance's primary key to None, making the save insert a new row.
    class Meta:
        model = Category
        fields = ("name",)
        import_id_fields = ("name",)
        instance_loader_class = CaseInsensitiveNameLoader

    def before_import_row(self, row, **kwargs):
        row["name"] = row["name"].strip()


class VisibleBooksResource(resources.ModelResource):
    """``get_queryset`` limits the rows exported and the instances an import may update."""

    def get_queryset(self):
        return Book.objects.exclude(name__startswith="draft")

    class Meta:
        model = Book
        fields = ("id", "name")


# -- modelresource_factory ---------------------------------------------------------------------
def book_resource_for(field_names):
    """A resource class made at run time, e.g. from the columns a user ticked."""
    return resources.modelresource_factory(
        Book,
        meta_options={"fields": ("id", *field_names, "author", "shout")},
        custom_fields={
            "author": fields.Field(attribute="author__name", column_name="author", readonly=True),
            "shout": fields.Field(column_name="shout"),
        },
        dehydrate_methods={"shout": lambda book: book.name.upper()},
    )
