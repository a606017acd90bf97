"""docs/settings.rst lists every setting the package reads, with the defaults the code uses.

The names come from the package's own source (whichever copy is imported: the source tree or
the installed wheel), so a setting added to the code without an entry on the page fails here;
the defaults the page states are compared with what the code does when the setting is absent.
"""

import ast
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.contrib.admin import AdminSite
from django.test import RequestFactory
from django.utils.module_loading import import_string

import import_export
from core.models import Book
from import_export import admin as ie_admin
from import_export import diff, resources, results, upload_safety
from import_export.formats.base_formats import CSV, XLSX
from import_export.formats.streaming.base import setting_is_on
from import_export.formats.streaming.reading import ImportLimits

PAGE = Path(__file__).resolve().parents[3] / "docs" / "settings.rst"
PACKAGE = Path(import_export.__file__).resolve().parent

#: ``IMPORT_EXPORT_NAME`` anywhere (code, constants, messages).
PREFIXED = re.compile(r"\bIMPORT_EXPORT_[A-Z0-9_]*[A-Z0-9]\b")
#: ``getattr(settings, "NAME"`` and ``settings.NAME``.
READ_BY_NAME = re.compile(r"getattr\(\s*settings,\s*[\"']([A-Z][A-Z0-9_]*)[\"']")
READ_AS_ATTRIBUTE = re.compile(r"\bsettings\.([A-Z][A-Z0-9_]*)\b")
#: The date/time widgets name the setting they read in a class attribute.
FORMATS_SETTING = re.compile(r"formats_setting\s*=\s*[\"']([A-Z][A-Z0-9_]*)[\"']")


def settings_read_by_the_package() -> set[str]:
    names = set()
    for source_file in PACKAGE.rglob("*.py"):
        text = source_file.read_text(encoding="utf-8")
        for pattern in (PREFIXED, READ_BY_NAME, READ_AS_ATTRIBUTE, FORMATS_SETTING):
            names.update(pattern.findall(text))
    return names


def documented_entries() -> dict[str, str]:
    """``{setting name: its entry's text}`` for each entry term (a line of ``NAME`` literals)."""
    entries: dict[str, str] = {}
    current: list[str] = []
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        term = re.fullmatch(r"((?:``[A-Z][A-Z0-9_]*``(?:, )?)+)", line)
        if term:
            current = re.findall(r"``([A-Z][A-Z0-9_]*)``", line)
            for name in current:
                entries[name] = ""
        elif current and (line.startswith(" ") or not line):
            for name in current:
                entries[name] += line + "\n"
        else:
            current = []
    return entries


def documented_default(name: str):
    """The first literal of the entry's ``:Default:`` line, evaluated (or imported)."""
    match = re.search(r":Default: ``([^`]+)``", documented_entries()[name])
    assert match, f"{name} has no :Default: line"
    text = match.group(1)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return import_string(text)


def test_the_scan_finds_the_settings_it_must():
    """A control: the scan is not vacuous (upstream's, the fork's and Django's names)."""
    found = settings_read_by_the_package()
    assert {
        "IMPORT_EXPORT_USE_TRANSACTIONS",
        "IMPORT_EXPORT_IMPORT_MAX_ROWS",
        "IMPORT_FORMATS",
        "DATE_INPUT_FORMATS",
        "USE_TZ",
    } <= found


def test_every_setting_the_package_reads_has_an_entry_on_the_page():
    missing = settings_read_by_the_package() - set(documented_entries())
    assert not missing, f"settings read by import_export but not in docs/settings.rst: {missing}"


def test_the_page_lists_no_setting_the_package_does_not_read():
    stale = set(documented_entries()) - settings_read_by_the_package()
    # Django's limits named in the text of an entry are not entries; only terms count here.
    assert not stale, f"docs/settings.rst documents settings the code does not read: {stale}"


def test_every_package_setting_links_to_the_page_that_explains_it():
    entries = documented_entries()
    unlinked = [
        name
        for name, text in entries.items()
        if name.startswith("IMPORT_EXPORT_") or name in ("IMPORT_FORMATS", "EXPORT_FORMATS")
        if ":doc:`" not in text
    ]
    assert not unlinked, f"settings without a link to their page: {unlinked}"


def admin_instance():
    return ie_admin.ImportExportModelAdmin(Book, AdminSite())


def user_without_permissions(django_user_model):
    request = RequestFactory().get("/")
    request.user = django_user_model.objects.create_user("plain", is_staff=True)
    return request


ABSENT_SETTING_PROBES = {
    "IMPORT_EXPORT_USE_TRANSACTIONS": lambda: resources.modelresource_factory(
        Book
    )().get_use_transactions(),
    "IMPORT_EXPORT_CHUNK_SIZE": lambda: resources.modelresource_factory(Book)().get_chunk_size(),
    "IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT": lambda: setting_is_on(
        "IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT"
    ),
    "IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT": lambda: setting_is_on(
        "IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT"
    ),
    "IMPORT_EXPORT_IMPORT_MAX_ROWS": lambda: ImportLimits.from_settings().max_rows,
    "IMPORT_EXPORT_IMPORT_MAX_DECOMPRESSED_SIZE": lambda: ImportLimits.from_settings().max_size,
    "IMPORT_EXPORT_IMPORT_MAX_ERRORS": lambda: (
        results.bounded_result_class(results.Result).max_errors
    ),
    "IMPORT_EXPORT_IMPORT_MAX_ROW_RESULTS": lambda: (
        results.bounded_result_class(results.Result).max_row_results
    ),
    "IMPORT_EXPORT_DIFF_MAX_CHARS": diff._diff_max_chars,
    "IMPORT_EXPORT_FORMATS": lambda: admin_instance().formats,
    "IMPORT_EXPORT_SKIP_ADMIN_LOG": lambda: admin_instance().get_skip_admin_log(),
    "IMPORT_EXPORT_SKIP_ADMIN_CONFIRM": lambda: admin_instance().is_skip_import_confirm_enabled(),
    "IMPORT_EXPORT_SKIP_ADMIN_EXPORT_UI": lambda: admin_instance().is_skip_export_form_enabled(),
    "IMPORT_EXPORT_SKIP_ADMIN_ACTION_EXPORT_UI": lambda: (
        admin_instance().is_skip_export_form_from_action_enabled()
    ),
    "IMPORT_EXPORT_TMP_STORAGE_CLASS": lambda: admin_instance().get_tmp_storage_class(),
    "IMPORT_EXPORT_TMP_STORAGE_MAX_AGE": upload_safety.tmp_storage_max_age,
    "IMPORT_EXPORT_MAX_UPLOAD_SIZE": upload_safety.max_upload_size,
}


@pytest.mark.parametrize("name", sorted(ABSENT_SETTING_PROBES))
def test_the_documented_default_is_what_the_code_uses_without_the_setting(name, settings):
    if hasattr(settings, name):
        delattr(settings, name)
    assert ABSENT_SETTING_PROBES[name]() == documented_default(name)


def test_the_ignore_blank_lines_default_keeps_blank_xlsx_rows(settings):
    """Documented default ``False``: a blank row of a workbook reaches the dataset."""
    if hasattr(settings, "IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES"):
        delattr(settings, "IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES")
    assert documented_default("IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES") is False
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (["name"], ["a"], [None], ["b"]):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert len(XLSX().create_dataset(buffer.getvalue())) == 3
    settings.IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES = True
    assert len(XLSX().create_dataset(buffer.getvalue())) == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, check",
    [
        ("IMPORT_EXPORT_IMPORT_PERMISSION_CODE", "has_import_permission"),
        ("IMPORT_EXPORT_EXPORT_PERMISSION_CODE", "has_export_permission"),
    ],
)
def test_without_a_permission_code_a_user_without_permissions_may_proceed(
    name, check, settings, django_user_model
):
    """Documented default ``None``: no permission is required; with a code one is."""
    assert documented_default(name) is None
    request = user_without_permissions(django_user_model)
    if hasattr(settings, name):
        delattr(settings, name)
    assert getattr(admin_instance(), check)(request) is True
    setattr(settings, name, "view")
    assert getattr(admin_instance(), check)(request) is False


@pytest.mark.parametrize("name", ["IMPORT_FORMATS", "EXPORT_FORMATS"])
def test_the_direction_formats_default_to_the_admins_formats(name, settings):
    assert "``formats``" in documented_entries()[name].split(":Default:")[1].splitlines()[0]
    if hasattr(settings, name):
        delattr(settings, name)
    settings.IMPORT_EXPORT_FORMATS = [CSV]  # not the default list: it must be passed through
    admin = admin_instance()
    direction = admin.import_formats if name == "IMPORT_FORMATS" else admin.export_formats
    assert direction == admin.formats == [CSV]
