"""Admin methods that downstream packages copy by reference: the log entries chain, the forms.

Packages built on django-import-export copy ``generate_log_entries``, ``_log_actions``,
``_create_log_entries`` and ``_create_log_entry`` onto admin classes of their own (which do not
inherit ``ImportMixin``), or override one of them.  These tests pin what the chain writes and
that each step is called as upstream calls it.  The rows written were compared with
django-import-export 4.4.3's, for the same import, on Django 5.2: they are identical.
"""

import pytest
import tablib
from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory, override_settings

from core.models import Author
from import_export import mixins, resources
from import_export.admin import ImportMixin
from import_export.forms import ConfirmImportForm, ImportForm

pytestmark = pytest.mark.django_db


class AuthorResource(resources.ModelResource):
    """Rows with ``delete`` = 1 delete their author."""

    def for_delete(self, row, instance):
        return row.get("delete") == "1"

    class Meta:
        model = Author
        fields = ("id", "name")
        skip_unchanged = True


class AuthorImportAdmin(ImportMixin, admin.ModelAdmin):
    pass


class Borrowing:
    """An admin class that copies the methods by reference instead of inheriting them."""

    model = Author
    skip_admin_log = None
    generate_log_entries = ImportMixin.generate_log_entries
    get_skip_admin_log = ImportMixin.get_skip_admin_log
    _log_actions = ImportMixin._log_actions
    _create_log_entries = ImportMixin._create_log_entries
    _create_log_entry = ImportMixin._create_log_entry


@pytest.fixture
def request_by_admin():
    request = RequestFactory().post("/")
    request.user = User.objects.create(username="importer")
    return request


@pytest.fixture
def import_result():
    """One updated, one deleted, one unchanged (skipped) and two new authors."""
    Author.objects.create(id=1, name="Old")
    Author.objects.create(id=2, name="Doomed")
    Author.objects.create(id=3, name="Same")
    dataset = tablib.Dataset(headers=["id", "name", "delete"])
    dataset.extend(
        [[1, "Renamed", ""], [2, "Doomed", "1"], [3, "Same", ""], [4, "New", ""], [5, "Newer", ""]]
    )
    result = AuthorResource().import_data(dataset, retain_instance_in_row_result=True)
    assert not result.has_errors()
    return result


def logged():
    return [
        (e.action_flag, e.object_id, e.object_repr, e.change_message, e.content_type.model)
        for e in LogEntry.objects.order_by("id")
    ]


EXPECTED = [
    (CHANGE, "1", "Renamed", "update through import_export", "author"),
    (DELETION, "2", "Doomed", "delete through import_export", "author"),
    (ADDITION, "4", "New", "new through import_export", "author"),
    (ADDITION, "5", "Newer", "new through import_export", "author"),
]


@pytest.mark.parametrize("target", [AuthorImportAdmin(Author, admin.site), Borrowing()])
def test_generate_log_entries_logs_new_updated_and_deleted_rows(
    target, import_result, request_by_admin
):
    target.generate_log_entries(import_result, request_by_admin)
    assert logged() == EXPECTED
    assert set(LogEntry.objects.values_list("user_id", flat=True)) == {request_by_admin.user.pk}


def test_log_actions_can_be_called_directly(import_result, request_by_admin):
    Borrowing()._log_actions(import_result, request_by_admin)
    assert logged() == EXPECTED


def test_each_step_of_the_chain_is_called_with_upstreams_arguments(import_result, request_by_admin):
    calls = []

    class Recording(AuthorImportAdmin):
        def _create_log_entries(self, user_pk, rows):
            calls.append(("entries", user_pk, {k: [i.pk for i in v] for k, v in rows.items()}))
            super()._create_log_entries(user_pk, rows)

        def _create_log_entry(self, user_pk, rows, import_type, action_flag):
            calls.append(("entry", import_type, action_flag, len(rows)))
            super()._create_log_entry(user_pk, rows, import_type, action_flag)

    Recording(Author, admin.site).generate_log_entries(import_result, request_by_admin)
    user_pk = request_by_admin.user.pk
    assert calls[0] == (
        "entries",
        user_pk,
        {"update": [1], "delete": [2], "skip": [3], "new": [4, 5]},
    )
    assert calls[1:] == [
        ("entry", "update", CHANGE, 1),
        ("entry", "delete", DELETION, 1),
        ("entry", "new", ADDITION, 2),
    ]
    assert logged() == EXPECTED


def test_create_log_entry_with_no_rows_writes_nothing(request_by_admin):
    Borrowing()._create_log_entry(request_by_admin.user.pk, [], "new", ADDITION)
    assert logged() == []


@override_settings(IMPORT_EXPORT_SKIP_ADMIN_LOG=True)
def test_skip_admin_log_setting_writes_nothing(import_result, request_by_admin):
    Borrowing().generate_log_entries(import_result, request_by_admin)
    assert logged() == []


class BorrowingImportAdmin(mixins.BaseImportMixin, admin.ModelAdmin):
    """As django-import-export-extensions' Celery admin: the form steps copied, not inherited."""

    import_form_class = ImportForm
    confirm_form_class = ConfirmImportForm
    skip_admin_log = None
    has_import_permission = ImportMixin.has_import_permission
    create_import_form = ImportMixin.create_import_form
    get_import_form_class = ImportMixin.get_import_form_class
    get_import_form_kwargs = ImportMixin.get_import_form_kwargs
    get_import_form_initial = ImportMixin.get_import_form_initial
    create_confirm_form = ImportMixin.create_confirm_form
    get_confirm_form_class = ImportMixin.get_confirm_form_class
    get_confirm_form_kwargs = ImportMixin.get_confirm_form_kwargs
    get_confirm_form_initial = ImportMixin.get_confirm_form_initial


def test_form_steps_work_when_copied_onto_a_class_without_import_mixin(request_by_admin):
    target = BorrowingImportAdmin(Author, admin.AdminSite())
    request_by_admin.user.is_superuser = True
    assert target.has_import_permission(request_by_admin)
    upload = RequestFactory().post(
        "/",
        {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("a.csv", b"name\nx\n")},
    )
    upload.user = request_by_admin.user
    form = target.create_import_form(upload)
    assert type(form) is ImportForm
    assert form.is_valid(), form.errors
    confirm_post = RequestFactory().post(
        "/", {"import_file_name": "abc", "original_file_name": "a.csv", "format": "0"}
    )
    confirm_post.user = request_by_admin.user
    confirm = target.create_confirm_form(confirm_post)
    assert type(confirm) is ConfirmImportForm
    assert confirm.is_valid(), confirm.errors
    assert confirm.cleaned_data["import_file_name"] == "abc"
