"""Forms of the admin import and export pages.

Choices of formats and resources are positional: the submitted value is the index of the format
class (or resource class) in the list the view passed in. Views resolve the index against the same
list, so a client can only pick among what the view offered.
"""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .resources import ModelResource  # noqa: F401 - upstream's module offers the name
from .tmp_storages import safe_storage_name
from .upload_safety import upload_size_error


class ImportExportFormBase(forms.Form):
    """The two choices every import or export starts with: which resource and which format."""

    resource = forms.ChoiceField(label=_("Resource"), choices=(), required=False)
    format = forms.ChoiceField(label=_("Format"), choices=())

    def __init__(self, formats: Sequence[type], resources: Sequence[type], **kwargs):
        super().__init__(**kwargs)
        self._init_resources(resources)
        self._init_formats(formats)

    def _init_resources(self, resources: Sequence[type]) -> None:
        """Offer each resource by its display name; with only one there is nothing to choose."""
        if not resources:
            raise ValueError("no defined resources")
        field = self.fields["resource"]
        field.choices = [(i, res.get_display_name()) for i, res in enumerate(resources)]
        if len(resources) == 1:
            # The id is kept so scripts looking up #id_resource work with one resource too.
            field.widget = forms.HiddenInput(attrs={"id": "id_resource"})
            self.initial["resource"] = "0"

    def _init_formats(self, formats: Sequence[type]) -> None:
        """Offer each format by title; a single format is shown read-only and preselected."""
        if not formats:
            raise ValueError("invalid formats list")
        field = self.fields["format"]
        choices = [(str(i), fmt().get_title()) for i, fmt in enumerate(formats)]
        if len(formats) == 1:
            field.value = formats[0]().get_title()
            field.initial = 0
            field.widget.attrs["readonly"] = True
        else:
            choices.insert(0, ("", "---"))
        field.choices = choices


class ImportForm(ImportExportFormBase):
    """First import step: the file to upload, its format and the resource to import with."""

    import_file = forms.FileField(label=_("File to import"))

    # The file comes before the format so the format can be guessed from the file's extension.
    field_order = ["resource", "import_file", "format"]

    def __init__(self, formats: Sequence[type], resources: Sequence[type], **kwargs):
        super().__init__(formats, resources, **kwargs)
        if len(formats) > 1:
            for name in ("import_file", "format"):
                self.fields[name].widget.attrs["class"] = "guess_format"

    def clean_import_file(self):
        """Refuse an upload over ``IMPORT_EXPORT_MAX_UPLOAD_SIZE`` before anything reads it."""
        upload = self.cleaned_data["import_file"]
        too_big = upload_size_error(upload)
        if too_big:
            raise forms.ValidationError(too_big, code="file_too_big")
        return upload

    @property
    def media(self):
        # The admin ships both builds of jQuery; DEBUG gets the readable one.
        jquery = "jquery.js" if settings.DEBUG else "jquery.min.js"
        scripts = [f"admin/js/vendor/jquery/{jquery}", "admin/js/jquery.init.js"]
        scripts.append("import_export/guess_format.js")
        return super().media + forms.Media(js=scripts)


class ConfirmImportForm(forms.Form):
    """Second import step: carries the stored upload's name back through the browser.

    The name comes back from the client, so it is cut down to a bare file name here; the storage
    classes confine it again. A value with nothing left after that is rejected. The view then
    checks ``import_file_token`` (see :mod:`import_export.upload_safety`): only the stored file
    of this user's own preview is imported.
    """

    import_file_name = forms.CharField(widget=forms.HiddenInput())
    #: Signed by the preview: binds the stored name to this user, model and content.
    import_file_token = forms.CharField(widget=forms.HiddenInput(), required=False)
    original_file_name = forms.CharField(widget=forms.HiddenInput())
    format = forms.CharField(widget=forms.HiddenInput())
    resource = forms.CharField(widget=forms.HiddenInput(), required=False)

    def clean_import_file_name(self) -> str:
        name = safe_storage_name(self.cleaned_data["import_file_name"])
        if name is None:
            raise forms.ValidationError(
                _("Invalid temporary file name: %(name)s"),
                code="invalid",
                params={"name": self.cleaned_data["import_file_name"]},
            )
        return name

    def clean_original_file_name(self) -> str:
        """Only ever shown or logged, but a bare name is all anyone needs of it."""
        return safe_storage_name(self.cleaned_data["original_file_name"]) or ""


class ExportForm(ImportExportFormBase):
    """Export step: resource and format, plus the primary keys picked by an admin action."""

    export_items = forms.MultipleChoiceField(widget=forms.MultipleHiddenInput(), required=False)


class SelectableFieldsExportForm(ExportForm):
    """Export form with one checkbox per exportable field of each resource.

    Checkbox names are ``<resource class name in lower case>_<field name>`` so that two resources
    declaring the same field do not collide. Only the checkboxes of the chosen resource count.
    """

    def __init__(self, formats: Sequence[type], resources: Sequence[type], **kwargs):
        super().__init__(formats, resources, **kwargs)
        self._init_selectable_fields(resources)

    @property
    def media(self):
        return super().media + forms.Media(
            js=("import_export/export_selectable_fields.js",),
            css={"all": ["import_export/export.css"]},
        )

    @staticmethod
    def create_boolean_field_name(resource: type, field_name: str) -> str:
        """Form field name of ``field_name``'s checkbox for ``resource``."""
        return f"{resource.__name__.lower()}_{field_name}"

    def _init_selectable_fields(self, resources: Sequence[type]) -> None:
        self.resources = list(resources)
        self.is_selectable_fields_form = True
        self.resource_fields: dict[str, list[str]] = {}
        for index, resource in enumerate(self.resources):
            self.resource_fields[resource.__name__] = self._create_boolean_fields(resource, index)
        ordered = ["resource"]
        for names in self.resource_fields.values():
            ordered.extend(names)
        self.order_fields(ordered)

    def _create_boolean_fields(self, resource: type, index: int) -> list[str]:
        """Add a checked-by-default checkbox per field, in the resource's export order.

        Returns the checkboxes' form field names.
        """
        instance = resource()
        names = []
        for position, field_name in enumerate(instance.get_export_order()):
            form_name = self.create_boolean_field_name(resource, field_name)
            label = self._get_field_label(instance, field_name)
            self.fields[form_name] = self._checkbox(label, resource, index, first=position == 0)
            names.append(form_name)
        return names

    @staticmethod
    def _checkbox(label: str, resource: type, index: int, first: bool) -> forms.BooleanField:
        """One field's checkbox, ticked by default, tagged with the resource it belongs to.

        The tags are read by the export template and by ``export_selectable_fields.js``, which
        shows only the boxes of the resource currently chosen.
        """
        checkbox = forms.BooleanField(required=False, initial=True, label=label, label_suffix="")
        checkbox.widget.attrs["resource-id"] = index
        vars(checkbox).update(
            is_selectable_field=True,
            resource_name=resource.__name__,
            resource_index=index,
            initial_field=first,
        )
        return checkbox

    def _get_field_label(self, resource, field_name: str) -> str:
        """The field's name for people, plus the file header when that differs.

        ``resource`` is the resource class or an instance of it.
        """
        label = field_name.replace("_", " ").title()
        field = resource.fields.get(field_name)
        column = getattr(field, "column_name", None)
        if column and column != field_name:
            label = f"{label} ({column})"
        return label

    def get_selected_resource(self) -> type:
        """The resource class chosen in the (already validated) form."""
        if not hasattr(self, "cleaned_data"):
            raise forms.ValidationError(_("Form is not validated, call `is_valid` first"))
        try:
            index = int(self.cleaned_data.get("resource") or 0)
        except (TypeError, ValueError):
            index = 0
        if not 0 <= index < len(self.resources):
            index = 0
        return self.resources[index]

    def get_selected_resource_export_fields(self) -> list[str]:
        """Names of the chosen resource's fields whose checkbox is ticked, in export order."""
        resource = self.get_selected_resource()
        return [
            name for name in resource().get_export_order() if self.cleaned_data.get(name) is True
        ]

    def clean(self):
        cleaned = super().clean()
        if self.errors.get("resource"):
            return cleaned
        resource = self.get_selected_resource()
        self._remove_unselected_resource_fields(resource)
        self._normalize_resource_fields(resource)
        self._validate_any_field_selected(resource)
        return self.cleaned_data

    def _remove_unselected_resource_fields(self, selected_resource: type) -> None:
        """Drop the checkboxes of every resource but the chosen one from ``cleaned_data``."""
        others = {
            name
            for resource_name, names in self.resource_fields.items()
            if resource_name != selected_resource.__name__
            for name in names
        }
        self.cleaned_data = {k: v for k, v in self.cleaned_data.items() if k not in others}

    def _normalize_resource_fields(self, selected_resource: type) -> None:
        """Key the chosen resource's checkboxes by plain field name in ``cleaned_data``.

        The ticked names are also kept, in order, in ``_selected_resource_fields``.
        """
        own = set(self.resource_fields.get(selected_resource.__name__, ()))
        prefix = f"{selected_resource.__name__.lower()}_"
        normalized = {}
        self._selected_resource_fields = []
        for key, value in self.cleaned_data.items():
            if key in own:
                key = key[len(prefix) :]
                if value is True:
                    self._selected_resource_fields.append(key)
            normalized[key] = value
        self.cleaned_data = normalized

    def _validate_any_field_selected(self, resource: type) -> None:
        """Refuse an export with no field ticked for the chosen resource."""
        if not any(self.cleaned_data.get(name) is True for name in resource().get_export_order()):
            raise forms.ValidationError(
                _('Select at least 1 field for "%(resource_name)s" to export'),
                code="invalid",
                params={"resource_name": resource.get_display_name()},
            )
