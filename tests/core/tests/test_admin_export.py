"""The admin export: form, streamed and classic downloads, filters, field choice, the action."""

import uuid
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest
from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.http import HttpResponse, StreamingHttpResponse
from django.test import override_settings

from core.admin import AuthorAdmin, BookAdmin, BookResource
from core.models import Author, Book, Category, UUIDBook
from import_export import mixins as export_mixins
from import_export.admin import ExportMixin, ImportExportModelAdmin
from import_export.formats import base_formats
from import_export.signals import post_export

pytestmark = pytest.mark.django_db

BOOK_EXPORT = "/admin/core/book/export/"
FORMAT_INDEX = {fmt.__name__: str(i) for i, fmt in enumerate(base_formats.DEFAULT_FORMATS)}


#: The change list (so the export) orders by descending primary key when nothing else is set.
def newest_first(queryset):
    return queryset.order_by("-pk")


ALL_BOOK_FIELDS = ("id", "name", "author", "author_email", "published", "price")
#: Book names a spreadsheet would evaluate as formulae (issue 13, finding 4).
HOSTILE_NAMES = ["==1+2", '==HYPERLINK("http://example.com/?x","open")', "+1", "-1", "@A1"]


def export_post(fmt="CSV", fields=ALL_BOOK_FIELDS, resource="0", prefix="bookresource"):
    data = {"format": FORMAT_INDEX[fmt], "resource": resource}
    data.update({f"{prefix}_{name}": "on" for name in fields})
    return data


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def classic_export(fmt: str, queryset, fields=None) -> bytes:
    """What upstream's non-streamed admin export sends for the same request."""
    file_format = getattr(base_formats, fmt)()
    native = type(file_format) in base_formats.BINARY_FORMATS
    data = file_format.export_data(
        BookResource().export(queryset, export_fields=fields, force_native_type=native)
    )
    return data.encode() if isinstance(data, str) else data


@pytest.fixture
def books():
    ann = Author.objects.create(name="Ann")
    bob = Author.objects.create(name='Bob, "the" writer')
    return [
        Book.objects.create(name="Alpha", author=ann, price=Decimal("1.50")),
        Book.objects.create(name="Beta\nTwo lines", author=bob, author_email="b@x.org"),
        Book.objects.create(name="Gamma ünïcode", author=ann, imported=True),
    ]


class TestExportPage:
    def test_get_shows_resources_formats_and_field_checkboxes(self, admin_client):
        response = admin_client.get(BOOK_EXPORT)
        assert response.status_code == 200
        form = response.context["form"]
        assert form.resource_fields["BookResource"] == [
            f"bookresource_{name}" for name in ALL_BOOK_FIELDS
        ]
        html = response.content.decode()
        assert 'name="bookresource_price"' in html
        assert "import_export/export_selectable_fields.js" in html
        assert "Select all" in html

    def test_change_list_export_link_keeps_filters(self, admin_client, books):
        response = admin_client.get("/admin/core/book/?imported__exact=1")
        assert b'href="/admin/core/book/export/?imported__exact=1"' in response.content

    def test_no_field_ticked_is_an_error(self, admin_client, books):
        response = admin_client.post(BOOK_EXPORT, export_post(fields=()))
        assert response.status_code == 200
        assert not response.streaming
        assert "Select at least 1 field" in response.content.decode()

    def test_missing_format_is_an_error(self, admin_client):
        data = export_post()
        del data["format"]
        response = admin_client.post(BOOK_EXPORT, data)
        assert "format" in response.context["form"].errors


class TestStreamedDownload:
    @pytest.mark.parametrize("fmt", ["CSV", "TSV", "JSON", "YAML", "HTML"])
    def test_text_formats_stream_the_classic_bytes(self, admin_client, books, fmt):
        response = admin_client.post(BOOK_EXPORT, export_post(fmt))
        assert isinstance(response, StreamingHttpResponse)
        file_format = getattr(base_formats, fmt)()
        assert response["Content-Type"] == file_format.get_content_type()
        assert response["Content-Disposition"].startswith('attachment; filename="Book-')
        assert response["Content-Disposition"].endswith(f'.{file_format.get_extension()}"')
        assert body(response) == classic_export(fmt, newest_first(Book.objects.all()))

    def test_streamed_equals_classic_admin_response(self, admin_client, books, monkeypatch):
        streamed = admin_client.post(BOOK_EXPORT, export_post())
        monkeypatch.setattr(BookAdmin, "export_streaming", False)
        classic = admin_client.post(BOOK_EXPORT, export_post())
        assert type(classic) is HttpResponse
        assert streamed.streaming and body(streamed) == classic.content

    @pytest.mark.parametrize("fmt", ["CSV", "JSON"])
    @override_settings(IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT=True)
    def test_hostile_names_are_escaped_alike_streamed_and_classic(
        self, admin_client, monkeypatch, fmt
    ):
        for name in HOSTILE_NAMES:
            Book.objects.create(name=name)
        streamed = body(admin_client.post(BOOK_EXPORT, export_post(fmt, fields=("id", "name"))))
        monkeypatch.setattr(BookAdmin, "export_streaming", False)
        classic = admin_client.post(BOOK_EXPORT, export_post(fmt, fields=("id", "name")))
        assert streamed == classic.content
        text = streamed.decode()
        assert "=HYPERLINK" not in text and "=1+2" not in text
        assert "'+1" in text and "'-1" in text and "'@A1" in text

    @override_settings(IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT=True)
    def test_hostile_names_are_no_formulae_in_xlsx(self, admin_client, monkeypatch):
        for name in HOSTILE_NAMES:
            Book.objects.create(name=name)
        streamed = body(admin_client.post(BOOK_EXPORT, export_post("XLSX", fields=("id", "name"))))
        monkeypatch.setattr(BookAdmin, "export_streaming", False)
        classic = admin_client.post(BOOK_EXPORT, export_post("XLSX", fields=("id", "name")))
        columns = []
        for content in (streamed, classic.content):  # zips differ in timestamps: compare cells
            cells = openpyxl.load_workbook(BytesIO(content)).active["B"][1:]
            assert [cell.data_type for cell in cells] == ["s"] * len(HOSTILE_NAMES)
            columns.append([cell.value for cell in cells])
        assert columns[0] == columns[1]
        assert not any(value.startswith(("=", "+", "-", "@")) for value in columns[0])

    def test_content_attribute_still_readable(self, admin_client, books):
        response = admin_client.post(BOOK_EXPORT, export_post())
        content = response.content
        assert content == classic_export("CSV", newest_first(Book.objects.all()))
        assert b"".join(response.streaming_content) == content

    def test_selected_fields_only(self, admin_client, books):
        response = admin_client.post(BOOK_EXPORT, export_post(fields=("name", "price")))
        expected = classic_export("CSV", newest_first(Book.objects.all()), fields=["name", "price"])
        assert body(response) == expected
        assert expected.startswith(b"name,price\r\n")

    def test_second_resource(self, admin_client, books):
        data = export_post(fields=("name",), resource="1", prefix="booknameresource")
        lines = body(admin_client.post(BOOK_EXPORT, data)).decode().splitlines()
        assert lines[0] == "name" and len(lines) == 1 + len(books) + 1  # one name has a newline

    def test_empty_queryset_still_has_headers(self, admin_client):
        response = admin_client.post(BOOK_EXPORT, export_post())
        assert body(response) == b"id,name,author,author_email,published,price\r\n"

    def test_xlsx_is_spooled_and_complete(self, admin_client, books):
        response = admin_client.post(BOOK_EXPORT, export_post("XLSX"))
        assert isinstance(response, StreamingHttpResponse)
        data = body(response)
        assert int(response["Content-Length"]) == len(data)
        sheet = openpyxl.load_workbook(BytesIO(data)).active
        classic = openpyxl.load_workbook(
            BytesIO(classic_export("XLSX", newest_first(Book.objects.all())))
        ).active
        assert list(sheet.values) == list(classic.values)
        alpha = next(row for row in sheet.values if row[1] == "Alpha")
        assert alpha[5] == 1.5  # a native number, not text

    def test_to_encoding_applies_to_streamed_text(self, admin_client, books, monkeypatch):
        monkeypatch.setattr(BookAdmin, "to_encoding", "utf-16")
        data = body(admin_client.post(BOOK_EXPORT, export_post()))
        expected = base_formats.CSV().export_data(
            BookResource().export(newest_first(Book.objects.all()))
        )
        assert data == expected.encode("utf-16")
        assert data.count(b"\xff\xfe") == 1  # a single byte-order mark

    def test_first_chunk_leaves_before_last_row_is_read(self, admin_client, monkeypatch):
        rendered = []

        class CountingResource(BookResource):
            def dehydrate_name(self, book):
                rendered.append(book.pk)
                return book.name

            class Meta(BookResource.Meta):
                pass

        Book.objects.bulk_create(Book(name=f"b{i}") for i in range(50))
        monkeypatch.setattr(BookAdmin, "resource_classes", [CountingResource])
        monkeypatch.setattr(export_mixins, "STREAM_CHUNK_SIZE", 1)
        response = admin_client.post(BOOK_EXPORT, export_post(prefix="countingresource"))
        chunks = iter(response.streaming_content)
        first = next(chunks)
        assert first.startswith(b"id,name,")
        assert len(rendered) < 5, "rows are rendered as the body is read, not up front"
        rest = b"".join(chunks)
        assert len(rendered) == 50
        assert first + rest == classic_export("CSV", newest_first(Book.objects.all()))

    def test_post_export_signal(self, admin_client, books):
        sent = []

        def receiver(sender, **kwargs):
            sent.append(kwargs["model"])

        post_export.connect(receiver)
        try:
            admin_client.post(BOOK_EXPORT, export_post())
        finally:
            post_export.disconnect(receiver)
        assert sent == [Book]


class TestErrorsBeforeAndAfterStreaming:
    def _use_resource(self, monkeypatch, resource):
        monkeypatch.setattr(BookAdmin, "resource_classes", [resource])

    def test_error_on_first_row_gives_error_page(self, admin_client, books, monkeypatch):
        class Failing(BookResource):
            def dehydrate_name(self, book):
                raise ValueError(f"cannot render {book.name}")

        self._use_resource(monkeypatch, Failing)
        response = admin_client.post(BOOK_EXPORT, export_post(prefix="failing"))
        assert response.status_code == 200
        assert not response.streaming
        # The admin's message list capitalises the first letter.
        assert "annot render Gamma ünïcode" in response.content.decode()

    def test_error_in_headers_gives_error_page(self, admin_client, books, monkeypatch):
        class BadHeaders(BookResource):
            def get_export_headers(self, selected_fields=None):
                raise ValueError("no headers today")

        self._use_resource(monkeypatch, BadHeaders)
        response = admin_client.post(BOOK_EXPORT, export_post(prefix="badheaders"))
        assert not response.streaming
        assert "o headers today" in response.content.decode()

    def test_error_on_later_row_aborts_the_download(self, admin_client, books, monkeypatch):
        class FailsLater(BookResource):
            def dehydrate_name(self, book):
                if book.name == "Alpha":  # the last row: newest first
                    raise ValueError("third row broken")
                return book.name

        self._use_resource(monkeypatch, FailsLater)
        response = admin_client.post(BOOK_EXPORT, export_post(prefix="failslater"))
        assert response.streaming
        with pytest.raises(ValueError, match="third row broken"):
            b"".join(response.streaming_content)

    def test_xlsx_error_gives_error_page(self, admin_client, books, monkeypatch):
        class Failing(BookResource):
            def dehydrate_name(self, book):
                raise ValueError("xlsx row broken")

        self._use_resource(monkeypatch, Failing)
        response = admin_client.post(BOOK_EXPORT, export_post("XLSX", prefix="failing"))
        assert not response.streaming
        assert "lsx row broken" in response.content.decode()


class TestClassicFallbacks:
    def test_overridden_get_data_for_export_is_honoured(self, admin_client, books, monkeypatch):
        def get_data_for_export(self, request, queryset, **kwargs):
            dataset = ExportMixin.get_data_for_export(self, request, queryset, **kwargs)
            dataset.append_col(["x"] * len(dataset), header="extra")
            return dataset

        monkeypatch.setattr(BookAdmin, "get_data_for_export", get_data_for_export)
        response = admin_client.post(BOOK_EXPORT, export_post())
        assert type(response) is HttpResponse
        assert response.content.splitlines()[0].endswith(b",extra")

    def test_resource_overriding_export_is_honoured(self, admin_client, books, monkeypatch):
        class Custom(BookResource):
            def export(self, queryset=None, **kwargs):
                dataset = super().export(queryset, **kwargs)
                dataset.title = "custom"
                dataset.append(["", "added by export()", "", "", "", ""])
                return dataset

        monkeypatch.setattr(BookAdmin, "resource_classes", [Custom])
        response = admin_client.post(BOOK_EXPORT, export_post(prefix="custom"))
        assert not response.streaming
        assert b"added by export()" in response.content

    def test_ods_uses_classic_path(self, admin_client, books):
        response = admin_client.post(BOOK_EXPORT, export_post("ODS"))
        assert type(response) is HttpResponse
        assert response.content[:2] == b"PK"

    def test_get_export_data_returns_rendered_file(self, rf, admin_user, books):
        request = rf.get("/")
        request.user = admin_user
        model_admin = BookAdmin(Book, admin.site)
        data = model_admin.get_export_data(
            base_formats.CSV(), request, newest_first(Book.objects.all())
        )
        assert data == classic_export("CSV", newest_first(Book.objects.all())).decode()


class TestQuerysetFromChangeList:
    def test_list_filter_applies(self, admin_client, books):
        response = admin_client.post(BOOK_EXPORT + "?imported__exact=1", export_post())
        assert body(response) == classic_export(
            "CSV", newest_first(Book.objects.filter(imported=True))
        )

    def test_search_applies(self, admin_client, books):
        response = admin_client.post(BOOK_EXPORT + "?q=beta", export_post())
        data = body(response)
        assert data == classic_export("CSV", Book.objects.filter(name__icontains="beta"))

    def test_changelist_filters_param_is_ignored(self, admin_client, books):
        url = BOOK_EXPORT + "?_changelist_filters=imported__exact%3D1"
        response = admin_client.post(url, export_post())
        assert body(response) == classic_export("CSV", newest_first(Book.objects.all()))

    def test_invalid_lookup_redirects_to_change_list(self, admin_client):
        response = admin_client.get(BOOK_EXPORT + "?nosuchfield=1")
        assert response.status_code == 302
        assert response["Location"] == "/admin/core/book/?e=1"

    def test_skip_export_form_downloads_first_format(self, admin_client, books):
        with override_settings(IMPORT_EXPORT_SKIP_ADMIN_EXPORT_UI=True):
            response = admin_client.get(BOOK_EXPORT + "?imported__exact=1")
        assert response["Content-Type"] == "text/csv"
        assert body(response) == classic_export(
            "CSV", newest_first(Book.objects.filter(imported=True))
        )

    def test_skip_export_form_attribute(self, admin_client, books, monkeypatch):
        monkeypatch.setattr(BookAdmin, "skip_export_form", True)
        assert admin_client.get(BOOK_EXPORT).streaming


class TestExportAction:
    def _select(self, client, objs, url="/admin/core/author/"):
        return client.post(
            url,
            {"action": "export_admin_action", "_selected_action": [str(o.pk) for o in objs]},
        )

    def test_action_is_offered(self, admin_client):
        Author.objects.create(name="Ann")
        response = admin_client.get("/admin/core/author/")
        assert b'value="export_admin_action"' in response.content

    def test_action_shows_form_with_selected_items(self, admin_client):
        authors = [Author.objects.create(name=n) for n in ("A", "B", "C")]
        response = self._select(admin_client, authors[:2])
        assert response.status_code == 200
        html = response.content.decode()
        assert "Export 2 selected items." in html
        assert 'action="/admin/core/author/export/"' in html
        assert html.count('name="export_items"') == 2

    def test_posting_export_items_exports_only_them(self, admin_client):
        authors = [Author.objects.create(name=n) for n in ("A", "B", "C")]
        data = {
            "format": FORMAT_INDEX["CSV"],
            "resource": "0",
            "authorresource_id": "on",
            "authorresource_name": "on",
            "export_items": [str(authors[0].pk), str(authors[2].pk)],
        }
        response = admin_client.post("/admin/core/author/export/", data)
        assert body(response).decode().splitlines() == [
            "id,name",
            f"{authors[2].pk},C",
            f"{authors[0].pk},A",
        ]

    def test_export_items_of_wrong_type_are_an_error(self, admin_client):
        data = {"format": FORMAT_INDEX["CSV"], "authorresource_id": "on", "export_items": ["x"]}
        response = admin_client.post("/admin/core/author/export/", data)
        assert not response.streaming
        assert "export_items" in response.context["form"].errors

    def test_export_items_cannot_escape_change_list_filters(self, admin_client):
        ann, bob = Author.objects.create(name="Ann"), Author.objects.create(name="Bob")
        data = {
            "format": FORMAT_INDEX["CSV"],
            "authorresource_name": "on",
            "export_items": [str(ann.pk), str(bob.pk)],
        }
        response = admin_client.post("/admin/core/author/export/?q=bob", data)
        assert body(response).decode().splitlines() == ["name", "Bob"]

    def test_action_skip_form_downloads_selection(self, admin_client):
        authors = [Author.objects.create(name=n) for n in ("A", "B")]
        with override_settings(IMPORT_EXPORT_SKIP_ADMIN_ACTION_EXPORT_UI=True):
            response = self._select(admin_client, authors[1:])
        assert response.streaming
        assert body(response).decode().splitlines()[1:] == [f"{authors[1].pk},B,"]

    def test_uuid_primary_keys(self, admin_client):
        books = [UUIDBook.objects.create(name=n) for n in ("U1", "U2")]
        page = self._select(admin_client, books[:1], url="/admin/core/uuidbook/")
        assert "Export 1 selected item." in page.content.decode()
        data = {
            "format": FORMAT_INDEX["CSV"],
            "uuidbookresource_name": "on",
            "export_items": [str(books[0].pk)],
        }
        response = admin_client.post("/admin/core/uuidbook/export/", data)
        assert body(response).decode().splitlines() == ["name", "U1"]
        data["export_items"] = [str(uuid.uuid4())]
        assert body(admin_client.post("/admin/core/uuidbook/export/", data)) == b"name\r\n"

    def test_category_admin_export_only_via_action(self, admin_client):
        Category.objects.create(name="c")
        html = admin_client.get("/admin/core/category/").content
        assert b"export_admin_action" in html and b"import_link" not in html


class TestChangeFormExport:
    def test_button_shown(self, admin_client):
        author = Author.objects.create(name="Ann")
        response = admin_client.get(f"/admin/core/author/{author.pk}/change/")
        assert b'name="_export-item"' in response.content

    def test_button_hidden_when_disabled(self, admin_client, monkeypatch):
        monkeypatch.setattr(AuthorAdmin, "show_change_form_export", False)
        author = Author.objects.create(name="Ann")
        response = admin_client.get(f"/admin/core/author/{author.pk}/change/")
        assert b'name="_export-item"' not in response.content

    def test_button_opens_export_form_for_this_object(self, admin_client):
        author = Author.objects.create(name="Ann")
        Author.objects.create(name="Other")
        response = admin_client.post(
            f"/admin/core/author/{author.pk}/change/",
            {"name": "Ann", "_export-item": "Export"},
        )
        assert response.status_code == 200
        assert response.context["form"].initial["export_items"] == [author.pk]
        assert "Export 1 selected item." in response.content.decode()


class TestChangeListTemplates:
    def test_custom_change_list_template_becomes_the_base(self):
        class WithTemplate(ImportExportModelAdmin):
            change_list_template = "admin/custom_change_list.html"

        model_admin = WithTemplate(Book, AdminSite())
        assert model_admin.ie_base_change_list_template == "admin/custom_change_list.html"
        assert (
            model_admin.change_list_template == "admin/import_export/change_list_import_export.html"
        )

    def test_default_base_and_context(self, admin_client):
        response = admin_client.get("/admin/core/book/")
        assert response.context["ie_base_change_list_template"] == "admin/change_list.html"
        assert response.context["has_import_permission"] is True
        assert response.context["has_export_permission"] is True

    def test_add_button_still_needs_add_permission(self, client, django_user_model):
        from django.contrib.auth.models import Permission

        user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
        user.user_permissions.add(Permission.objects.get(codename="view_book"))
        client.force_login(user)
        html = client.get("/admin/core/book/").content.decode()
        assert "/admin/core/book/add/" not in html
        assert "export_link" in html
