"""Examples of docs/admin_integration.rst: admin classes, permissions, forms and templates.

tests/core/tests/test_manual_admin_integration.py registers them on admin sites of its own and
drives them with the test client.
"""

# -- imports
from django import forms
from django.contrib import admin

from core.models import Book
from import_export import resources
from import_export.admin import (
    ExportActionMixin,
    ImportExportModelAdmin,
    ImportMixin,
)
from import_export.forms import ConfirmImportForm, ImportForm, SelectableFieldsExportForm


# -- basic admin
class BookResource(resources.ModelResource):
    class Meta:
        model = Book
        fields = ("id", "name", "author_email", "price", "published")


class BookAdmin(ImportExportModelAdmin):
    """Import and Export buttons on the change list, both with BookResource."""

    resource_classes = [BookResource]
    list_filter = ["published"]
    search_fields = ["name"]


# -- end basic admin


# -- two resources
class BookNameResource(resources.ModelResource):
    """A second choice on the import and export pages: only the name and the price."""

    class Meta:
        model = Book
        fields = ("id", "name", "price")
        name = "Names and prices"


class TwoResourceBookAdmin(ImportExportModelAdmin):
    resource_classes = [BookResource, BookNameResource]


# -- end two resources


# -- export action
class AuthorAdmin(ExportActionMixin, admin.ModelAdmin):
    """ "Export selected authors" in the action menu, and an Export button on the change form."""

    list_display = ["name"]


# -- end export action


# -- permissions
class CarefulBookAdmin(ImportExportModelAdmin):
    """Import only for users who may both add and change books; export for everyone who may
    view them (the admin itself already requires staff status)."""

    resource_classes = [BookResource]

    def has_import_permission(self, request):
        return request.user.has_perms(["core.add_book", "core.change_book"])

    def has_export_permission(self, request):
        return request.user.has_perm("core.view_book")


# -- end permissions


# -- import form data
class BookImportForm(ImportForm):
    published = forms.DateField(
        required=False, help_text="The date given to every row that has none."
    )


class BookConfirmImportForm(ConfirmImportForm):
    # Carried from the upload page to the confirm page as a hidden field.
    published = forms.DateField(required=False, widget=forms.HiddenInput)


class DefaultDateBookResource(resources.ModelResource):
    """Books imported without a published date get the date chosen on the form."""

    class Meta:
        model = Book
        fields = ("id", "name", "published")

    def __init__(self, form=None, **kwargs):
        super().__init__(**kwargs)
        # The upload form in the preview, the confirm form in the real import.
        self.default_published = form.cleaned_data.get("published") if form else None

    def before_save_instance(self, instance, row, **kwargs):
        if instance.published is None:
            instance.published = self.default_published


class DefaultDateBookAdmin(ImportMixin, admin.ModelAdmin):
    resource_classes = [DefaultDateBookResource]
    import_form_class = BookImportForm
    confirm_form_class = BookConfirmImportForm

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["published"] = import_form.cleaned_data["published"]
        return initial


# -- end import form data


# -- export form data
class MinimumPriceExportForm(SelectableFieldsExportForm):
    min_price = forms.DecimalField(required=False, label="Only books costing at least")


class MinimumPriceBookResource(resources.ModelResource):
    class Meta:
        model = Book
        fields = ("id", "name", "price")

    def __init__(self, export_form=None, **kwargs):
        super().__init__(**kwargs)
        cleaned = getattr(export_form, "cleaned_data", {})
        self.min_price = cleaned.get("min_price")

    def filter_export(self, queryset, **kwargs):
        if self.min_price is not None:
            queryset = queryset.filter(price__gte=self.min_price)
        return queryset


class MinimumPriceBookAdmin(ImportExportModelAdmin):
    resource_classes = [MinimumPriceBookResource]
    export_form_class = MinimumPriceExportForm


# -- end export form data


# -- templates and log
class QuietBookAdmin(ImportExportModelAdmin):
    """Its own import page, and no admin log entries for imported rows."""

    resource_classes = [BookResource]
    import_template_name = "manual/book_import.html"
    skip_admin_log = True


# -- end templates and log
