"""Hostile and broken input on the import side (issue 13, findings 1, 3, 6, 7 and 8).

Each test reproduces one finding of the probe: it fails on the code before the fix.
"""

import os
import tempfile
import time
from io import StringIO

import pytest
import tablib
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings

from core.admin import BookAdmin
from core.models import Book, NullableTypes
from import_export import upload_safety
from import_export.diff import html_diff
from import_export.formats import base_formats
from import_export.formats.safe_yaml import YAMLExpansionError
from import_export.resources import modelresource_factory
from import_export.results import FAILED_CELL_ATTRIBUTE, Error
from import_export.tmp_storages import TempFolderStorage

BOOK_IMPORT = "/admin/core/book/import/"
BOOK_PROCESS = "/admin/core/book/process_import/"
CSV = "0"
YAML_INDEX = str(base_formats.DEFAULT_FORMATS.index(base_formats.YAML))


def alias_bomb(levels: int) -> str:
    """A list of one row whose ``v`` column holds ``9 ** levels`` strings once expanded."""
    lines = ['- v: &l0 ["a","a","a","a","a","a","a","a","a"]']
    for level in range(1, levels):
        refs = ",".join([f"*l{level - 1}"] * 9)
        lines.append(f"  w{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.fixture
def private_tempdir(tmp_path_factory, monkeypatch):
    """Stored uploads go to a folder of this test's own, so listing it shows only ours."""
    folder = tmp_path_factory.mktemp("uploads")
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def post_upload(client, content: bytes, fmt=CSV, name="books.csv"):
    upload = SimpleUploadedFile(name, content)
    return client.post(BOOK_IMPORT, {"format": fmt, "resource": "0", "import_file": upload})


def confirm_data(response) -> dict:
    form = response.context["confirm_form"]
    return {name: form.initial.get(name, "") for name in form.fields}


def page_messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# ---- finding 1: YAML alias bomb ----------------------------------------------------------------


class TestYAMLAliasBomb:
    def test_bomb_is_refused_quickly(self):
        # 9**9 (387 million) values once expanded: tablib's loader takes a minute and gigabytes.
        started = time.perf_counter()
        with pytest.raises(YAMLExpansionError, match="aliases expand"):
            base_formats.YAML().create_dataset(alias_bomb(9))
        assert time.perf_counter() - started < 1

    def test_small_bomb_that_tablib_would_load_is_refused_too(self):
        # 9**5 values: tablib loads it into one cell (no error) on the code before the fix.
        assert len(alias_bomb(5)) < 400
        with pytest.raises(ValueError):
            base_formats.YAML().create_dataset(alias_bomb(5))

    def test_yaml_with_a_few_aliases_and_plain_rows_still_loads(self):
        text = "- {id: 1, tags: &t [a, b]}\n- {id: 2, tags: *t}\n"
        dataset = base_formats.YAML().create_dataset(text)
        assert dataset.headers == ["id", "tags"]
        assert dataset[1] == (2, ["a", "b"])

    def test_unsafe_tags_are_not_executed(self):
        with pytest.raises(Exception) as caught:
            base_formats.YAML().create_dataset("- !!python/object/apply:os.system ['true']\n")
        assert "ConstructorError" in type(caught.value).__name__

    def test_deep_nesting_is_a_clear_error(self):
        with pytest.raises(YAMLExpansionError, match="nests too deeply"):
            base_formats.YAML().create_dataset("[" * 20000)

    @pytest.mark.django_db
    def test_admin_upload_of_bomb_is_a_form_error_naming_the_cause(
        self, admin_client, private_tempdir
    ):
        started = time.perf_counter()
        response = post_upload(admin_client, alias_bomb(9).encode(), fmt=YAML_INDEX, name="b.yaml")
        assert time.perf_counter() - started < 2
        errors = response.context["form"].errors["import_file"]
        assert errors[0].startswith("'YAMLExpansionError' encountered while trying to read file.")
        assert "aliases expand the document" in errors[1]
        assert len(response.content) < 100_000
        assert list(private_tempdir.iterdir()) == []  # the refused upload is not kept

    def test_import_data_path_of_bomb_fails_before_any_row(self, db):
        with pytest.raises(YAMLExpansionError):
            dataset = base_formats.YAML().create_dataset(alias_bomb(9))
            modelresource_factory(Book)().import_data(dataset)
        assert Book.objects.count() == 0


# ---- finding 3: the confirm step imports only this user's preview ------------------------------


@pytest.mark.django_db
class TestConfirmOnlyOwnPreview:
    def test_foreign_file_in_temp_dir_is_neither_imported_nor_deleted(
        self, admin_client, private_tempdir
    ):
        foreign = private_tempdir / "other-program.csv"
        foreign.write_text("id,name\n,Planted\n")
        data = {"import_file_name": foreign.name, "original_file_name": "x.csv", "format": CSV}
        response = admin_client.post(BOOK_PROCESS, data)
        assert response.status_code == 200
        assert "not uploaded in your import preview" in response.content.decode()
        assert Book.objects.count() == 0
        assert foreign.exists()

    def test_file_stored_by_another_users_preview_is_refused(
        self, admin_client, client, private_tempdir
    ):
        preview = post_upload(admin_client, b"id,name\n,Mine\n")
        data = confirm_data(preview)
        other = User.objects.create_superuser("mallory", "m@example.com", "pw")
        client.force_login(other)
        response = client.post(BOOK_PROCESS, data)
        assert "not uploaded in your import preview" in response.content.decode()
        assert Book.objects.count() == 0
        assert (private_tempdir / data["import_file_name"]).exists()

    def test_token_of_one_upload_does_not_unlock_another_name(self, admin_client, private_tempdir):
        first = confirm_data(post_upload(admin_client, b"id,name\n,First\n"))
        second = confirm_data(post_upload(admin_client, b"id,name\n,Second\n"))
        forged = {**second, "import_file_token": first["import_file_token"]}
        response = admin_client.post(BOOK_PROCESS, forged)
        assert "not uploaded in your import preview" in response.content.decode()
        assert Book.objects.count() == 0

    def test_file_replaced_after_preview_is_refused_and_kept(self, admin_client, private_tempdir):
        data = confirm_data(post_upload(admin_client, b"id,name\n,Previewed\n"))
        stored = private_tempdir / data["import_file_name"]
        stored.write_text("id,name\n,Swapped\n")
        response = admin_client.post(BOOK_PROCESS, data)
        assert "not uploaded in your import preview" in response.content.decode()
        assert Book.objects.count() == 0
        assert stored.exists()

    def test_tampered_token_is_refused(self, admin_client, private_tempdir):
        data = confirm_data(post_upload(admin_client, b"id,name\n,A\n"))
        data["import_file_token"] = data["import_file_token"][:-2] + "xx"
        response = admin_client.post(BOOK_PROCESS, data)
        assert "not uploaded in your import preview" in response.content.decode()

    def test_expired_preview_is_refused_and_its_file_removed(self, admin_client, private_tempdir):
        data = confirm_data(post_upload(admin_client, b"id,name\n,Late\n"))
        with override_settings(IMPORT_EXPORT_TMP_STORAGE_MAX_AGE=-1):
            response = admin_client.post(BOOK_PROCESS, data)
        assert "preview has expired" in response.content.decode()
        assert Book.objects.count() == 0
        assert list(private_tempdir.iterdir()) == []

    def test_own_preview_is_imported_and_its_file_removed(self, admin_client, private_tempdir):
        data = confirm_data(post_upload(admin_client, b"id,name\n,Fine\n"))
        assert admin_client.post(BOOK_PROCESS, data).status_code == 302
        assert Book.objects.get().name == "Fine"
        assert list(private_tempdir.iterdir()) == []


# ---- finding 6: uploads are not left behind ----------------------------------------------------


@pytest.mark.django_db
class TestStoredUploadsCleanedUp:
    def test_preview_with_errors_removes_its_upload(self, admin_client, private_tempdir):
        # Text in a decimal column fails the row (upstream's semantics): a row error.
        response = post_upload(admin_client, b"id,name,price\n,Bad,not-a-price\n")
        assert response.context["result"].has_errors()
        assert list(private_tempdir.iterdir()) == []

    def test_preview_with_invalid_rows_removes_its_upload(self, admin_client, private_tempdir):
        response = post_upload(admin_client, b"id,name,published\n,Bad,not-a-date\n")
        assert response.context["result"].has_validation_errors()
        assert list(private_tempdir.iterdir()) == []

    def test_unreadable_upload_is_removed(self, admin_client, private_tempdir):
        xlsx = str(base_formats.DEFAULT_FORMATS.index(base_formats.XLSX))
        response = post_upload(admin_client, b"not a workbook", fmt=xlsx, name="x.xlsx")
        assert response.context["form"].errors["import_file"]
        assert list(private_tempdir.iterdir()) == []

    def test_exception_in_preview_removes_upload(self, admin_client, private_tempdir, monkeypatch):
        def explode(*args, **kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(BookAdmin, "get_import_data_kwargs", explode)
        with pytest.raises(RuntimeError):
            post_upload(admin_client, b"id,name\n,A\n")
        assert list(private_tempdir.iterdir()) == []

    def test_server_error_at_confirm_removes_upload(
        self, admin_client, private_tempdir, monkeypatch
    ):
        data = confirm_data(post_upload(admin_client, b"id,name\n,A\n"))

        def explode(*args, **kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(BookAdmin, "process_dataset", explode)
        with pytest.raises(RuntimeError):
            admin_client.post(BOOK_PROCESS, data)
        assert list(private_tempdir.iterdir()) == []

    def test_abandoned_uploads_expire_when_a_new_one_is_stored(self, admin_client, private_tempdir):
        abandoned = private_tempdir / (TempFolderStorage.PREFIX + "abandoned")
        abandoned.write_bytes(b"id,name\n,Old\n")
        recent = private_tempdir / (TempFolderStorage.PREFIX + "recent")
        recent.write_bytes(b"id,name\n,New\n")
        not_ours = private_tempdir / "someone-elses-file"
        not_ours.write_bytes(b"x")
        day_ago = time.time() - 2 * 86400
        for path in (abandoned, not_ours):
            os.utime(path, (day_ago, day_ago))
        post_upload(admin_client, b"id,name\n,Fresh\n")
        assert not abandoned.exists()
        assert recent.exists()
        assert not_ours.exists()

    def test_expiry_follows_the_setting(self, private_tempdir):
        storage = TempFolderStorage()
        storage.save(b"data")
        path = private_tempdir / storage.name
        hour_ago = time.time() - 3600
        os.utime(path, (hour_ago, hour_ago))
        assert storage.remove_expired(7200) == 0
        assert storage.remove_expired(1800) == 1
        assert not path.exists()


# ---- finding 7 (admin side): a failed confirm says so; upload size limit -----------------------


@pytest.mark.django_db
class TestConfirmFailureAndLimits:
    def test_failed_confirm_shows_the_error_not_a_success(
        self, admin_client, private_tempdir, monkeypatch
    ):
        data = confirm_data(post_upload(admin_client, b"id,name\n,Doomed\n"))
        resource_class = BookAdmin.resource_classes[0]

        def fail_for_real(self, instance, row, **kwargs):
            if not kwargs.get("dry_run"):
                raise RuntimeError("the database refused the row")

        monkeypatch.setattr(resource_class, "before_save_instance", fail_for_real)
        response = admin_client.post(BOOK_PROCESS, data)
        assert response.status_code == 200
        shown = page_messages(response)
        assert not any(message.startswith("Import finished") for message in shown)
        assert "The import failed; see the errors below." in shown
        assert "the database refused the row" in response.content.decode()
        assert Book.objects.count() == 0

    def test_upload_over_the_size_limit_is_a_form_error(self, admin_client, private_tempdir):
        with override_settings(IMPORT_EXPORT_MAX_UPLOAD_SIZE=1000):
            response = post_upload(admin_client, b"id,name\n" + b",x\n" * 1000)
        errors = response.context["form"].errors["import_file"]
        assert errors == [
            "The file is too big (2.9\xa0KB); the largest file accepted is 1000\xa0bytes."
        ]
        assert list(private_tempdir.iterdir()) == []
        assert Book.objects.count() == 0

    def test_upload_within_the_size_limit_is_previewed(self, admin_client, private_tempdir):
        with override_settings(IMPORT_EXPORT_MAX_UPLOAD_SIZE=1000):
            response = post_upload(admin_client, b"id,name\n,x\n")
        assert "confirm_form" in response.context

    def test_a_huge_bad_value_is_shown_once_not_twice(self, admin_client, private_tempdir):
        bad = "9x" * 50_000  # 100,000 characters, within the CSV field size limit
        response = post_upload(admin_client, f"id,name,published\n,Big,{bad}\n".encode())
        assert response.context["result"].has_validation_errors()
        page = response.content.decode()
        assert page.count(bad) == 1  # in the row's cells; the message quotes it cut short
        assert len(page) < len(bad) + 50_000

    def test_csv_cell_over_the_field_size_limit_is_explained(self, admin_client, private_tempdir):
        content = b"id,name\n," + b"x" * 200_000 + b"\n"
        response = post_upload(admin_client, content)
        errors = response.context["form"].errors["import_file"]
        assert "CSV field size limit" in errors[1]
        assert "xxxxx" not in response.content.decode()


def test_signed_claim_round_trip_names_the_digest(rf, admin_user):
    request = rf.post("/")
    request.user = admin_user
    token = upload_safety.sign_stored_upload(request, Book, "name", "abc")
    claim = upload_safety.verify_stored_upload(request, Book, "name", token)
    assert claim.digest == "abc"
    with pytest.raises(upload_safety.UploadRejected):
        upload_safety.verify_stored_upload(request, User, "name", token)


# ---- finding 8: a byte-order mark never reaches the first header -------------------------------


@pytest.mark.django_db
class TestByteOrderMark:
    def test_command_with_explicit_utf8_updates_instead_of_adding(self, tmp_path):
        book = Book.objects.create(name="Old")
        path = tmp_path / "books.csv"
        path.write_bytes(f"\ufeffid,name\n{book.pk},New\n".encode())
        call_command(
            "import",
            "core.Book",
            str(path),
            "--encoding",
            "utf-8",
            interactive=False,
            stdout=StringIO(),
        )
        assert list(Book.objects.values_list("pk", "name")) == [(book.pk, "New")]

    def test_bom_prefixed_text_loaded_by_tablib_then_import_data(self):
        book = Book.objects.create(name="Old")
        dataset = tablib.Dataset().load(f"\ufeffid,name\n{book.pk},New\n", format="csv")
        result = modelresource_factory(Book)().import_data(dataset)
        assert not result.has_errors()
        assert result.totals["update"] == 1
        assert list(Book.objects.values_list("name", flat=True)) == ["New"]

    @pytest.mark.parametrize("fmt", [base_formats.CSV, base_formats.TSV, base_formats.JSON])
    def test_text_formats_drop_the_bom_whatever_the_encoding(self, fmt):
        dataset = tablib.Dataset(headers=["id", "name"])
        dataset.append(["1", "x"])
        text = "\ufeff" + fmt().export_data(dataset)
        assert fmt(encoding="utf-8").create_dataset(text.encode()).headers == ["id", "name"]
        assert fmt().create_dataset(text).headers == ["id", "name"]


# ---- finding 7 (import side): every error names its column, values stay short ------------------


def import_one(model, column, value):
    dataset = tablib.Dataset(headers=["id", column])
    dataset.append(["", value])
    return modelresource_factory(model)().import_data(dataset)


def only_problem(result) -> tuple[str, str]:
    """``(column, message)`` of the one failing cell of a one-row import."""
    for _line, errors in result.row_errors():
        (error,) = errors
        return error.column, error.describe()
    (invalid,) = result.invalid_rows
    ((column, messages),) = invalid.field_specific_errors.items()
    return column, " ".join(messages)


@pytest.mark.django_db
class TestErrorsNameTheirColumn:
    @pytest.mark.parametrize("value", ["NaN", "inf", "-Infinity", "sNaN"])
    def test_decimal_nan_and_infinity(self, value):
        column, message = only_problem(import_one(NullableTypes, "decimal", value))
        assert column == "decimal"
        assert "not a finite number" in message
        assert NullableTypes.objects.count() == 0

    def test_invalid_uuid(self):
        column, message = only_problem(import_one(NullableTypes, "uuid", "not-a-uuid"))
        assert column == "uuid"
        assert "not-a-uuid" in message

    def test_integer_overflow(self):
        column, message = only_problem(import_one(NullableTypes, "big_int", "9" * 25))
        assert column == "big_int"
        assert message.startswith("Row 1, column 'big_int'")
        assert NullableTypes.objects.count() == 0

    def test_check_constraint(self):
        column, message = only_problem(import_one(NullableTypes, "positive_int", "-5"))
        assert column == "positive_int"
        assert message.startswith("Row 1, column 'positive_int' (value '-5')")
        assert NullableTypes.objects.count() == 0

    def test_long_bad_value_is_quoted_short_and_once(self):
        value = "x" * 100_000
        column, message = only_problem(import_one(Book, "price", value))
        assert column == "price"
        assert len(message) < 300
        assert "\N{HORIZONTAL ELLIPSIS}" in message

    def test_long_value_in_a_django_validation_message_is_cut(self):
        value = "u" * 100_000
        _column, message = only_problem(import_one(NullableTypes, "uuid", value))
        assert len(message) < 300

    def test_row_error_describe_cuts_the_value(self):
        failure = RuntimeError("the row failed")
        setattr(failure, FAILED_CELL_ATTRIBUTE, ("name", "v" * 10_000))
        described = Error(failure, number=3).describe()
        assert described.startswith("Row 3, column 'name' (value 'vvv")
        assert len(described) < 100


class TestPreviewDiffIsBounded:
    def test_long_changed_text_is_not_diffed(self):
        before, after = "a" * 50_000, "b" * 50_000
        started = time.process_time()
        fragment = html_diff(before, after)
        assert time.process_time() - started < 0.05
        assert "changed" in fragment
        assert len(fragment) < 200

    def test_short_text_still_gets_a_character_diff(self):
        fragment = html_diff("colour", "color")
        assert "<del" in fragment and "u" in fragment

    def test_cap_follows_the_setting(self):
        with override_settings(IMPORT_EXPORT_DIFF_MAX_CHARS=5):
            assert "changed" in html_diff("abcdef", "abcxyz")
        with override_settings(IMPORT_EXPORT_DIFF_MAX_CHARS=100):
            assert "<ins" in html_diff("abcdef", "abcxyz")


def test_digest_of_chunks_equals_digest_of_the_whole():
    whole = "id,name\n1,é\n" * 100
    pieces = [whole[i : i + 7] for i in range(0, len(whole), 7)]
    assert upload_safety.digest_chunks(pieces) == upload_safety.content_digest(whole)
    assert upload_safety.content_digest(whole) != upload_safety.content_digest(whole + " ")
