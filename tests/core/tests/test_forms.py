"""Forms of the admin import and export pages.

Formats and resources are stood in for by tiny classes with the few methods the forms call, so
these tests pin the forms' own behaviour.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from import_export.forms import (
    ConfirmImportForm,
    ExportForm,
    ImportExportFormBase,
    ImportForm,
    SelectableFieldsExportForm,
)


class _Format:
    title = "?"

    def get_title(self):
        return self.title


class CSVLike(_Format):
    title = "csv"


class JSONLike(_Format):
    title = "json"


class _Field:
    def __init__(self, column_name):
        self.column_name = column_name


class _Resource:
    order = ()
    columns = {}
    display = None

    def __init__(self):
        self.fields = {name: _Field(self.columns.get(name, name)) for name in self.order}

    def get_export_order(self):
        return self.order

    @classmethod
    def get_display_name(cls):
        return cls.display or cls.__name__


class BookRes(_Resource):
    order = ("id", "name", "author_email")
    columns = {"author_email": "Email"}


class BookNameRes(_Resource):
    order = ("id", "name")
    display = "Only names"


class TestBase:
    def test_needs_resources_and_formats(self):
        with pytest.raises(ValueError, match="resources"):
            ImportExportFormBase([CSVLike], [])
        with pytest.raises(ValueError, match="formats"):
            ImportExportFormBase([], [BookRes])

    def test_several_formats_get_an_empty_first_choice(self):
        form = ImportExportFormBase([CSVLike, JSONLike], [BookRes])
        assert form.fields["format"].choices == [("", "---"), ("0", "csv"), ("1", "json")]
        assert not form.fields["format"].widget.attrs.get("readonly")

    def test_single_format_is_preselected_and_readonly(self):
        form = ImportExportFormBase([JSONLike], [BookRes])
        field = form.fields["format"]
        assert field.choices == [("0", "json")]
        assert field.widget.attrs["readonly"] is True
        assert field.value == "json"
        assert field.initial == 0

    def test_single_resource_is_hidden(self):
        form = ImportExportFormBase([CSVLike], [BookRes])
        html = str(form["resource"])
        assert 'type="hidden"' in html and 'id="id_resource"' in html
        assert form.initial["resource"] == "0"

    def test_several_resources_are_a_select_with_display_names(self):
        form = ImportExportFormBase([CSVLike], [BookRes, BookNameRes])
        assert form.fields["resource"].choices == [(0, "BookRes"), (1, "Only names")]
        assert "<select" in str(form["resource"])

    def test_format_outside_choices_is_invalid(self):
        form = ImportExportFormBase([CSVLike, JSONLike], [BookRes], data={"format": "7"})
        assert not form.is_valid()
        assert "format" in form.errors


class TestImportForm:
    def _upload(self):
        return {"import_file": SimpleUploadedFile("books.csv", b"id,name\n1,A\n")}

    def test_valid_with_file_and_format(self):
        form = ImportForm(
            [CSVLike, JSONLike], [BookRes], data={"format": "0"}, files=self._upload()
        )
        assert form.is_valid(), form.errors
        assert form.cleaned_data["import_file"].name == "books.csv"

    def test_file_is_required(self):
        form = ImportForm([CSVLike], [BookRes], data={"format": "0"})
        assert not form.is_valid()
        assert "import_file" in form.errors

    def test_file_field_comes_before_format_and_guess_class_only_with_choice(self):
        form = ImportForm([CSVLike, JSONLike], [BookRes])
        assert list(form.fields)[:3] == ["resource", "import_file", "format"]
        assert form.fields["format"].widget.attrs["class"] == "guess_format"
        single = ImportForm([CSVLike], [BookRes])
        assert "class" not in single.fields["import_file"].widget.attrs

    def test_media_loads_format_guessing_script(self):
        assert "import_export/guess_format.js" in str(ImportForm([CSVLike], [BookRes]).media)


class TestConfirmImportForm:
    def _data(self, **overrides):
        data = {"import_file_name": "abc", "original_file_name": "books.csv", "format": "0"}
        data.update(overrides)
        return data

    @pytest.mark.parametrize(
        "posted, cleaned",
        [
            ("abc", "abc"),
            ("../../../etc/passwd", "passwd"),
            ("/etc/shadow", "shadow"),
            ("..\\..\\boot.ini", "boot.ini"),
        ],
    )
    def test_file_name_is_reduced_to_basename(self, posted, cleaned):
        form = ConfirmImportForm(data=self._data(import_file_name=posted))
        assert form.is_valid(), form.errors
        assert form.cleaned_data["import_file_name"] == cleaned

    @pytest.mark.parametrize("posted", ["..", "../", "/"])
    def test_name_with_nothing_left_is_rejected(self, posted):
        form = ConfirmImportForm(data=self._data(import_file_name=posted))
        assert not form.is_valid()
        assert "import_file_name" in form.errors

    def test_original_name_is_reduced_too(self):
        form = ConfirmImportForm(data=self._data(original_file_name="C:\\Users\\me\\books.csv"))
        assert form.is_valid()
        assert form.cleaned_data["original_file_name"] == "books.csv"

    def test_resource_is_optional_and_the_rest_required(self):
        assert ConfirmImportForm(data=self._data()).is_valid()
        form = ConfirmImportForm(data={"import_file_name": "abc"})
        assert set(form.errors) == {"original_file_name", "format"}


class TestExportForm:
    def test_export_items_hidden_and_optional(self):
        form = ExportForm([CSVLike], [BookRes], data={"format": "0"})
        assert form.is_valid()
        assert form.cleaned_data["export_items"] == []


class TestSelectableFieldsExportForm:
    def test_one_checked_checkbox_per_field_of_each_resource(self):
        form = SelectableFieldsExportForm([CSVLike], [BookRes, BookNameRes])
        assert form.resource_fields == {
            "BookRes": ["bookres_id", "bookres_name", "bookres_author_email"],
            "BookNameRes": ["booknameres_id", "booknameres_name"],
        }
        assert list(form.fields)[0] == "resource"
        box = form.fields["booknameres_name"]
        assert box.initial is True and box.required is False
        assert box.resource_index == 1 and box.resource_name == "BookNameRes"
        assert form.fields["booknameres_id"].initial_field is True
        assert form.fields["booknameres_name"].initial_field is False
        assert box.widget.attrs["resource-id"] == 1

    def test_label_shows_column_when_it_differs(self):
        form = SelectableFieldsExportForm([CSVLike], [BookRes])
        assert form.fields["bookres_author_email"].label == "Author Email (Email)"
        assert form.fields["bookres_name"].label == "Name"

    def test_selected_fields_are_those_ticked_for_chosen_resource(self):
        data = {
            "format": "0",
            "resource": "1",
            "bookres_id": "on",  # another resource's box: ignored
            "booknameres_name": "on",
        }
        form = SelectableFieldsExportForm([CSVLike], [BookRes, BookNameRes], data=data)
        assert form.is_valid(), form.errors
        assert form.get_selected_resource() is BookNameRes
        assert form.get_selected_resource_export_fields() == ["name"]
        assert "bookres_id" not in form.cleaned_data
        assert form.cleaned_data["name"] is True and form.cleaned_data["id"] is False

    def test_order_follows_resource_not_submission(self):
        data = {"format": "0", "bookres_author_email": "on", "bookres_id": "on"}
        form = SelectableFieldsExportForm([CSVLike], [BookRes], data=data)
        assert form.is_valid(), form.errors
        assert form.get_selected_resource_export_fields() == ["id", "author_email"]

    def test_nothing_ticked_is_an_error_naming_the_resource(self):
        form = SelectableFieldsExportForm(
            [CSVLike], [BookRes, BookNameRes], data={"format": "0", "resource": "1"}
        )
        assert not form.is_valid()
        assert 'Select at least 1 field for "Only names" to export' in form.non_field_errors()

    def test_selected_resource_needs_validation_first(self):
        form = SelectableFieldsExportForm([CSVLike], [BookRes])
        with pytest.raises(Exception, match="is_valid"):
            form.get_selected_resource()

    def test_media_has_script_and_css(self):
        media = str(SelectableFieldsExportForm([CSVLike], [BookRes]).media)
        assert "export_selectable_fields.js" in media and "export.css" in media
