"""The mixins shared by the admin and plain views: resources, formats, export responses."""

import warnings
from datetime import date
from unittest import mock

import pytest
from django import forms
from django.http import HttpResponse, StreamingHttpResponse
from django.test import override_settings
from django.views.generic import ListView

from core.admin import BookNameResource, BookResource
from core.models import Book
from import_export.formats import base_formats
from import_export.forms import SelectableFieldsExportForm
from import_export.mixins import (
    BaseExportMixin,
    BaseImportExportMixin,
    BaseImportMixin,
    ExportViewFormMixin,
    ExportViewMixin,
)
from import_export.signals import post_export


class BookMixin(BaseImportMixin, BaseExportMixin):
    model = Book


class TestResourceClasses:
    def test_default_is_a_resource_for_the_model(self):
        (resource_class,) = BookMixin().get_resource_classes(None)
        assert resource_class._meta.model is Book

    def test_resource_classes_attribute(self):
        mixin = BookMixin()
        mixin.resource_classes = [BookResource, BookNameResource]
        assert mixin.get_import_resource_classes(None) == [BookResource, BookNameResource]
        assert mixin.get_export_resource_classes(None) == [BookResource, BookNameResource]

    def test_deprecated_resource_class_warns(self):
        mixin = BookMixin()
        mixin.resource_class = BookResource
        with pytest.warns(DeprecationWarning, match="'resource_class' field has been deprecated"):
            assert mixin.get_resource_classes(None) == [BookResource]

    def test_both_attributes_is_an_error(self):
        mixin = BookMixin()
        mixin.resource_class = BookResource
        mixin.resource_classes = [BookResource]
        with pytest.raises(Exception, match="Only one of"):
            mixin.get_resource_classes(None)

    @pytest.mark.parametrize(
        "method, getter",
        [
            ("get_resource_class", "get_resource_classes"),
            ("get_import_resource_class", "get_import_resource_classes"),
            ("get_export_resource_class", "get_export_resource_classes"),
        ],
    )
    def test_deprecated_single_class_getters_warn(self, method, getter):
        mixin = BookMixin()
        setattr(mixin, method, lambda: BookNameResource)
        with pytest.warns(DeprecationWarning, match=method):
            assert getattr(mixin, getter)(None) == [BookNameResource]

    def test_resource_classes_must_be_subscriptable(self):
        mixin = BookMixin()
        mixin.resource_classes = {BookResource}
        with pytest.raises(Exception, match="subscriptable"):
            mixin.get_import_resource_classes(None)

    def test_choose_by_form_index(self):
        mixin = BookMixin()
        mixin.resource_classes = [BookResource, BookNameResource]
        form = mock.Mock(cleaned_data={"resource": "1"})
        assert mixin.choose_import_resource_class(form, None) is BookNameResource
        assert mixin.choose_export_resource_class(form, None) is BookNameResource

    @pytest.mark.parametrize("value", ["", None, "x", "9", "-1"])
    def test_bad_index_falls_back_to_first(self, value):
        mixin = BookMixin()
        mixin.resource_classes = [BookResource, BookNameResource]
        form = mock.Mock(cleaned_data={"resource": value})
        assert mixin.choose_export_resource_class(form, None) is BookResource

    def test_resource_kwargs_pass_through(self):
        assert BookMixin().get_import_resource_kwargs(None, a=1) == {"a": 1}
        assert BookMixin().get_export_resource_kwargs(None, b=2) == {"b": 2}


class TestFormats:
    def test_defaults(self):
        assert BookMixin().get_export_formats() == base_formats.DEFAULT_FORMATS
        assert base_formats.CSV in BookMixin().get_import_formats()

    def test_settings(self):
        with override_settings(IMPORT_EXPORT_FORMATS=[base_formats.CSV, base_formats.JSON]):
            assert BookMixin().get_import_formats() == [base_formats.CSV, base_formats.JSON]
            with override_settings(EXPORT_FORMATS=[base_formats.XLSX]):
                assert BookMixin().get_export_formats() == [base_formats.XLSX]
                assert BookMixin().get_import_formats() == [base_formats.CSV, base_formats.JSON]
        with override_settings(IMPORT_FORMATS=[base_formats.TSV]):
            assert BookMixin().get_import_formats() == [base_formats.TSV]

    def test_class_attribute_overrides_setting(self):
        class JSONOnly(BookMixin):
            formats = [base_formats.JSON]

        assert JSONOnly().get_export_formats() == [base_formats.JSON]

    def test_formats_that_cannot_import_or_export_are_dropped(self):
        class ExportOnly(base_formats.CSV):
            def can_import(self):
                return False

        with override_settings(IMPORT_EXPORT_FORMATS=[ExportOnly, base_formats.JSON]):
            assert BookMixin().get_import_formats() == [base_formats.JSON]
            assert BookMixin().get_export_formats() == [ExportOnly, base_formats.JSON]


class TestFlags:
    def test_skip_import_confirm(self):
        assert BookMixin().is_skip_import_confirm_enabled() is False
        with override_settings(IMPORT_EXPORT_SKIP_ADMIN_CONFIRM=True):
            assert BookMixin().is_skip_import_confirm_enabled() is True
        mixin = BookMixin()
        mixin.skip_import_confirm = True
        assert mixin.is_skip_import_confirm_enabled() is True

    def test_skip_export_forms(self):
        mixin = BookMixin()
        assert not mixin.is_skip_export_form_enabled()
        assert not mixin.is_skip_export_form_from_action_enabled()
        with override_settings(IMPORT_EXPORT_SKIP_ADMIN_EXPORT_UI=True):
            assert mixin.is_skip_export_form_enabled()
            assert not mixin.is_skip_export_form_from_action_enabled()
        with override_settings(IMPORT_EXPORT_SKIP_ADMIN_ACTION_EXPORT_UI=True):
            assert mixin.is_skip_export_form_from_action_enabled()

    def test_export_filename(self):
        with mock.patch("import_export.mixins.now") as fake_now:
            fake_now.return_value = date(2024, 2, 29)
            assert BookMixin().get_export_filename(base_formats.XLSX()) == "Book-2024-02-29.xlsx"


@pytest.mark.django_db
class TestDataForExport:
    def test_selected_fields_from_form(self):
        mixin = BookMixin()
        mixin.resource_classes = [BookResource]
        Book.objects.create(name="A")
        form = SelectableFieldsExportForm(
            [base_formats.CSV], [BookResource], data={"format": "0", "bookresource_name": "on"}
        )
        assert form.is_valid()
        dataset = mixin.get_data_for_export(None, Book.objects.all(), export_form=form)
        assert dataset.headers == ["name"] and dataset[0] == ("A",)

    def test_kwargs_reach_resource_constructor(self):
        seen = {}

        class Recording(BookResource):
            def __init__(self, **kwargs):
                seen.update(kwargs)
                super().__init__()

        mixin = BookMixin()
        mixin.resource_classes = [Recording]
        mixin.get_data_for_export(None, Book.objects.none(), custom="value")
        assert seen == {"custom": "value"}


class BookExportView(ExportViewMixin, ListView):
    """A non-admin export view without the deprecated form mixin."""

    model = Book


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)

    class BookExportFormView(ExportViewFormMixin):
        model = Book
        resource_classes = [BookResource]
        template_name = "admin/import_export/export.html"
        export_streaming = True  # opted in: the deprecated view is in-memory by default

        def get_queryset(self):
            return Book.objects.order_by("pk")


def test_subclassing_the_form_mixin_warns():
    with pytest.warns(DeprecationWarning, match="ExportViewFormMixin is deprecated"):

        class Another(ExportViewFormMixin):
            pass


@pytest.mark.django_db
class TestExportViewFormMixin:
    def _post(self, rf, data):
        request = rf.post("/export/", data)
        return BookExportFormView.as_view()(request)

    def test_valid_post_streams_the_export(self, rf):
        Book.objects.create(name="A")
        Book.objects.create(name="B")
        sent = []

        def receiver(sender, **kwargs):
            sent.append(kwargs["model"])

        post_export.connect(receiver)
        try:
            response = self._post(rf, {"format": "0", "bookresource_name": "on"})
        finally:
            post_export.disconnect(receiver)
        assert isinstance(response, StreamingHttpResponse)
        # As upstream, the deprecated view exports every field, whatever is ticked.
        expected = base_formats.CSV().export_data(
            BookResource().export(Book.objects.order_by("pk"))
        )
        assert b"".join(response.streaming_content) == expected.encode()
        assert response["Content-Disposition"].startswith('attachment; filename="Book-')
        assert sent == [Book]

    def test_by_default_the_deprecated_view_answers_in_memory_as_upstream(self, rf):
        Book.objects.create(name="A")

        class InMemory(BookExportFormView):
            export_streaming = ExportViewFormMixin.export_streaming

        data = {"format": "0", "bookresource_name": "on"}
        response = InMemory.as_view()(rf.post("/export/", data))
        assert type(response) is HttpResponse
        assert response["Content-Type"] == base_formats.CSV().get_content_type()
        expected = base_formats.CSV().export_data(
            BookResource().export(Book.objects.order_by("pk"))
        )
        assert response.content == expected.encode()

    def test_form_kwargs_carry_formats_and_resources(self, rf):
        view = BookExportFormView()
        view.setup(rf.get("/export/"))
        kwargs = view.get_form_kwargs()
        assert kwargs["formats"] == view.get_export_formats()
        assert kwargs["resources"] == [BookResource]

    def test_overridden_get_export_data_is_used(self, rf, monkeypatch):
        monkeypatch.setattr(
            BookExportFormView, "get_export_data", lambda self, fmt, qs, **kw: "custom,data"
        )
        response = self._post(rf, {"format": "0", "bookresource_name": "on"})
        assert type(response) is HttpResponse
        assert response.content == b"custom,data"

    def test_invalid_form_renders_again(self, rf):
        response = self._post(rf, {"format": "0"})
        assert response.status_code == 200
        assert isinstance(response.context_data["form"], forms.Form)
        assert response.context_data["form"].errors

    def test_get_export_data_of_plain_view_mixin(self, rf):
        book = Book.objects.create(name="Z")
        view = BookExportView()
        view.setup(rf.get("/"))
        view.resource_classes = [BookNameResource]
        data = view.get_export_data(base_formats.CSV(), Book.objects.all())
        assert data == f"id,name\r\n{book.pk},Z\r\n"


def test_base_mixin_has_no_model_resources_without_model():
    assert BaseImportExportMixin().resource_classes == []
