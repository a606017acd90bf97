"""The examples of docs/testing.rst: tests a project writes for its own resource and admin.

tests/core/tests/test_manual_testing.py imports the test classes and functions below, so the
suite runs them exactly as a project's test runner would, and checks that they catch a broken
resource.  The module is also the URLconf of the admin tests (``ROOT_URLCONF=__name__``).
"""

import io

import tablib
from django.contrib.admin import AdminSite
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.urls import path, reverse

from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats

from ..models import Author, Book


# -- the code under test ---------------------------------------------------------------------
class BookResource(resources.ModelResource):
    author = fields.Field(
        attribute="author", column_name="author", widget=widgets.ForeignKeyWidget(Author, "name")
    )

    class Meta:
        model = Book
        fields = ("id", "name", "author", "price", "published")


class BookAdmin(ImportExportModelAdmin):
    resource_classes = [BookResource]
    formats = [base_formats.CSV]  # one format: its index in the forms is "0"


site = AdminSite()
site.register(Book, BookAdmin)
urlpatterns = [path("admin/", site.urls)]

HEADERS = ["id", "name", "author", "price", "published"]


# -- testing an import -----------------------------------------------------------------------
class BookImportTests(TestCase):
    def setUp(self):
        self.ann = Author.objects.create(name="Ann")

    def test_dry_run_counts_the_rows_and_writes_nothing(self):
        dataset = tablib.Dataset(
            ["", "Dune", "Ann", "9.99", "2024-03-01"], ["", "Emma", "", "", ""], headers=HEADERS
        )
        result = BookResource().import_data(dataset, dry_run=True)
        self.assertFalse(result.has_errors())
        self.assertFalse(result.has_validation_errors())
        self.assertEqual(result.totals["new"], 2)
        self.assertEqual(Book.objects.count(), 0)  # a dry run is rolled back

    def test_an_unknown_author_is_a_row_error(self):
        dataset = tablib.Dataset(["", "Dune", "Nobody", "9.99", ""], headers=HEADERS)
        result = BookResource().import_data(dataset)
        self.assertTrue(result.has_errors())
        [(row_number, [error])] = result.row_errors()
        self.assertEqual(row_number, 1)
        self.assertEqual(str(error.error), "Author matching query does not exist.")
        self.assertEqual(Book.objects.count(), 0)  # an import with errors is rolled back

    def test_a_bad_price_is_a_row_error(self):
        dataset = tablib.Dataset(["", "Dune", "Ann", "cheap", ""], headers=HEADERS)
        result = BookResource().import_data(dataset)
        self.assertTrue(result.has_errors())
        self.assertEqual([number for number, _ in result.row_errors()], [1])

    def test_a_bad_date_is_an_invalid_row_naming_the_field(self):
        dataset = tablib.Dataset(["", "Dune", "Ann", "9.99", "2024-13-45"], headers=HEADERS)
        result = BookResource().import_data(dataset)
        self.assertFalse(result.has_errors())
        self.assertTrue(result.has_validation_errors())
        [invalid] = result.invalid_rows
        self.assertEqual(invalid.number, 1)
        self.assertEqual(list(invalid.field_specific_errors), ["published"])
        self.assertEqual(Book.objects.count(), 0)

    def test_importing_twice_updates(self):
        book = Book.objects.create(name="Dune", author=self.ann)
        dataset = tablib.Dataset([book.pk, "Dune Messiah", "Ann", "5.00", ""], headers=HEADERS)
        result = BookResource().import_data(dataset, raise_errors=True)
        self.assertEqual(result.totals["update"], 1)
        book.refresh_from_db()
        self.assertEqual(book.name, "Dune Messiah")


# -- testing an export -----------------------------------------------------------------------
class BookExportTests(TestCase):
    def test_export_is_the_expected_csv(self):
        ann = Author.objects.create(name="Ann")
        book = Book.objects.create(name="Dune", author=ann, price="9.99")
        dataset = BookResource().export(Book.objects.all())
        self.assertEqual(
            dataset.csv, f"id,name,author,price,published\r\n{book.pk},Dune,Ann,9.99,\r\n"
        )

    def test_streamed_export_equals_the_classic_one(self):
        Book.objects.create(name="Dune", price="9.99")
        Book.objects.create(name="Emma")
        streamed = io.StringIO()
        BookResource().export_to_stream("csv", streamed, queryset=Book.objects.order_by("pk"))
        classic = BookResource().export(Book.objects.order_by("pk")).csv
        self.assertEqual(streamed.getvalue(), classic)


# -- testing a streamed import with an in-memory file ----------------------------------------
class BookStreamImportTests(TestCase):
    def test_a_csv_file_in_memory(self):
        Author.objects.create(name="Ann")
        csv_file = io.BytesIO(
            b"id,name,author,price,published\r\n,Dune,Ann,9.99,\r\n,Emma,,,2024-03-01\r\n"
        )
        result = BookResource().import_from_stream("csv", csv_file, raise_errors=True)
        self.assertEqual(result.totals["new"], 2)
        self.assertEqual(result.total_rows, 2)
        self.assertEqual(
            sorted(Book.objects.values_list("name", "author__name")),
            [("Dune", "Ann"), ("Emma", None)],
        )


# -- testing the admin with the test client --------------------------------------------------
@override_settings(ROOT_URLCONF=__name__)
class BookAdminTests(TestCase):
    def setUp(self):
        user = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
        self.client.force_login(user)
        Author.objects.create(name="Ann")

    def test_export_downloads_the_ticked_columns(self):
        Book.objects.create(name="Dune", price="9.99")
        response = self.client.post(
            reverse("admin:core_book_export"),
            {"format": "0", "resource": "0", "bookresource_name": "on", "bookresource_price": "on"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/csv")
        # The fork streams the download; upstream's tests read response.content.
        body = b"".join(response.streaming_content).decode()
        self.assertEqual(body, "name,price\r\nDune,9.99\r\n")

    def test_import_previews_then_confirms(self):
        upload = SimpleUploadedFile(
            "books.csv", b"id,name,author,price,published\n,Dune,Ann,9.99,\n"
        )
        preview = self.client.post(
            reverse("admin:core_book_import"),
            {"format": "0", "resource": "0", "import_file": upload},
        )
        self.assertEqual(preview.status_code, 200)
        self.assertEqual(preview.context["result"].totals["new"], 1)
        self.assertEqual(Book.objects.count(), 0)  # the preview is a dry run
        confirm_form = preview.context["confirm_form"]
        confirm_data = {name: confirm_form.initial.get(name, "") for name in confirm_form.fields}
        response = self.client.post(reverse("admin:core_book_process_import"), confirm_data)
        self.assertRedirects(response, reverse("admin:core_book_changelist"))
        self.assertEqual(Book.objects.get().author.name, "Ann")
