"""The examples of docs/admin_integration.rst (core/manual/admin_integration.py) do what the
page says, driven through the test client on admin sites of this module's own urlconf."""

import datetime
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import path

from core.manual import admin_integration as examples
from core.models import Author, Book

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

CSV = "0"  # CSV is the first of the default formats


def _site(name, *registrations):
    site = admin.AdminSite(name=name)
    for model, model_admin in registrations:
        site.register(model, model_admin)
    return path(f"{name}/", site.urls)


urlpatterns = [
    _site("books", (Book, examples.BookAdmin), (Author, examples.AuthorAdmin)),
    _site("two", (Book, examples.TwoResourceBookAdmin)),
    _site("careful", (Book, examples.CarefulBookAdmin)),
    _site("dated", (Book, examples.DefaultDateBookAdmin)),
    _site("priced", (Book, examples.MinimumPriceBookAdmin)),
    _site("quiet", (Book, examples.QuietBookAdmin)),
]

TEMPLATES_DIR = Path(examples.__file__).parent / "templates"


def csv_upload(text):
    return SimpleUploadedFile("books.csv", text.encode())


def preview(client, site, text, **extra):
    data = {"format": CSV, "resource": "0", "import_file": csv_upload(text), **extra}
    return client.post(f"/{site}/core/book/import/", data)


def confirm(client, site, response):
    form = response.context["confirm_form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    data = {name: "" if value is None else value for name, value in data.items()}
    return client.post(f"/{site}/core/book/process_import/", data)


def export_csv(client, url, **data):
    response = client.post(url, {"format": CSV, **data})
    assert response.status_code == 200, response.content[:500]
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def staff(db):
    """A staff user holding only the permissions a test gives it."""
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    return user


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=user.pk)  # a fresh object: permissions are cached


class TestBasicAdmin:
    def test_the_changelist_shows_import_and_export_buttons(self, admin_client):
        html = admin_client.get("/books/core/book/").content.decode()
        assert 'href="/books/core/book/import/"' in html
        assert 'href="/books/core/book/export/"' in html

    def test_the_export_button_carries_the_changelists_query(self, admin_client):
        html = admin_client.get("/books/core/book/?q=odes").content.decode()
        assert 'href="/books/core/book/export/?q=odes"' in html

    def test_an_import_is_previewed_then_confirmed_and_logged(self, admin_client, admin_user):
        response = preview(admin_client, "books", "id,name,price\n,Odes,9.50\n,Epodes,7.00\n")
        assert response.status_code == 200
        assert response.context["result"].totals["new"] == 2
        assert not Book.objects.exists()  # the preview was a dry run
        response = confirm(admin_client, "books", response)
        assert response.status_code == 302
        shown = [str(m) for m in get_messages(response.wsgi_request)]
        assert shown == ["Import finished: 2 new, 0 updated, 0 deleted and 0 skipped books."]
        assert sorted(Book.objects.values_list("name", flat=True)) == ["Epodes", "Odes"]
        entries = LogEntry.objects.filter(user=admin_user)
        assert [e.action_flag for e in entries] == [ADDITION, ADDITION]
        assert {e.change_message for e in entries} == {"new through import_export"}

    def test_the_export_button_exports_the_changelists_filtered_rows(self, admin_client):
        odes = Book.objects.create(name="Odes", published=datetime.date(2020, 1, 1))
        epodes = Book.objects.create(name="Epodes", published=datetime.date(2021, 1, 1))
        Book.objects.create(name="Satires")
        ticked = {"resource": "0", "bookresource_id": "on", "bookresource_name": "on"}

        text = export_csv(admin_client, "/books/core/book/export/?q=odes", **ticked)
        # The change list's order: newest first (by primary key) for a model without ordering.
        assert text.splitlines() == ["id,name", f"{epodes.pk},Epodes", f"{odes.pk},Odes"]

        url = "/books/core/book/export/?published__gte=2021-01-01&published__lt=2022-01-01"
        text = export_csv(admin_client, url, **ticked)
        assert text.splitlines() == ["id,name", f"{epodes.pk},Epodes"]

    def test_two_resources_are_offered_by_name(self, admin_client):
        response = admin_client.get("/two/core/book/export/")
        choices = response.context["form"].fields["resource"].choices
        assert [label for _, label in choices] == ["BookResource", "Names and prices"]


class TestExportAction:
    # Upstream 4.4 warns about get_valid_export_item_pks() on every action export; so does
    # the fork (docs/admin_integration.rst says so).
    @pytest.mark.filterwarnings("ignore:The 'get_valid_export_item_pks:DeprecationWarning")
    def test_the_action_is_offered_and_shows_the_export_form_for_the_selection(self, admin_client):
        ann, bob, _ = (Author.objects.create(name=n) for n in ("Ann", "Bob", "Cy"))
        response = admin_client.post(
            "/books/core/author/",
            {"action": "export_admin_action", "_selected_action": [ann.pk, bob.pk]},
        )
        assert response.status_code == 200
        form = response.context["form"]
        assert sorted(form.initial["export_items"]) == sorted([ann.pk, bob.pk])
        text = export_csv(
            admin_client,
            "/books/core/author/export/",
            resource="0",
            export_items=[ann.pk, bob.pk],
            **{"authorresource_id": "on", "authorresource_name": "on"},
        )
        # In the change list's order (newest first, by primary key, for a model without ordering).
        assert text.splitlines()[1:] == [f"{bob.pk},Bob", f"{ann.pk},Ann"]

    def test_the_change_form_has_an_export_button(self, admin_client):
        ann = Author.objects.create(name="Ann")
        html = admin_client.get(f"/books/core/author/{ann.pk}/change/").content.decode()
        assert 'name="_export-item"' in html

    def test_more_keys_than_data_upload_max_number_fields_are_refused(self, admin_client):
        authors = [Author.objects.create(name=f"A{i}") for i in range(12)]
        with override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=10):
            response = admin_client.post(
                "/books/core/author/export/",
                {"format": CSV, "resource": "0", "export_items": [a.pk for a in authors]},
            )
        assert response.status_code == 400


class TestPermissions:
    def test_without_permissions_the_buttons_are_hidden_and_the_views_refuse(self, client, staff):
        staff = grant(staff, "view_book")
        client.force_login(staff)
        html = client.get("/careful/core/book/").content.decode()
        assert "/careful/core/book/import/" not in html
        assert "/careful/core/book/export/" in html
        assert client.get("/careful/core/book/import/").status_code == 403
        assert client.post("/careful/core/book/process_import/", {}).status_code == 403
        assert client.get("/careful/core/book/export/").status_code == 200

    def test_add_and_change_together_allow_the_import(self, client, staff):
        staff = grant(staff, "view_book", "add_book", "change_book")
        client.force_login(staff)
        assert client.get("/careful/core/book/import/").status_code == 200

    def test_without_view_the_export_is_refused(self, client, staff):
        staff = grant(staff, "change_book")
        client.force_login(staff)
        html = client.get("/careful/core/book/").content.decode()
        assert "/careful/core/book/export/" not in html
        assert client.get("/careful/core/book/export/").status_code == 403
        assert client.post("/careful/core/book/export/", {"format": CSV}).status_code == 403

    @override_settings(
        IMPORT_EXPORT_IMPORT_PERMISSION_CODE="add", IMPORT_EXPORT_EXPORT_PERMISSION_CODE="view"
    )
    def test_the_permission_code_settings_name_the_permission_checked(self, client, staff):
        staff = grant(staff, "change_book", "add_book")
        client.force_login(staff)
        assert client.get("/books/core/book/import/").status_code == 200
        assert client.get("/books/core/book/export/").status_code == 403

    @override_settings(IMPORT_EXPORT_EXPORT_PERMISSION_CODE="view")
    def test_without_the_export_permission_the_action_is_not_offered(self, client, staff):
        ann = Author.objects.create(name="Ann")
        staff = grant(staff, "change_author")
        client.force_login(staff)
        html = client.get("/books/core/author/").content.decode()
        assert "export_admin_action" not in html
        response = client.post(
            "/books/core/author/",
            {"action": "export_admin_action", "_selected_action": [ann.pk]},
        )
        assert b"Export selected" not in response.content
        assert not response.has_header("Content-Disposition")
        staff = grant(staff, "view_author")
        client.force_login(staff)
        assert "export_admin_action" in client.get("/books/core/author/").content.decode()


class TestFormDataReachesTheResource:
    def test_the_date_chosen_on_the_upload_form_is_used_in_preview_and_import(self, admin_client):
        text = "id,name,published\n,Odes,\n,Epodes,2001-02-03\n"
        response = preview(admin_client, "dated", text, published="1999-12-31")
        result = response.context["result"]
        assert result.totals["new"] == 2
        assert response.context["confirm_form"].initial["published"] == datetime.date(1999, 12, 31)
        confirm(admin_client, "dated", response)
        assert dict(Book.objects.values_list("name", "published")) == {
            "Odes": datetime.date(1999, 12, 31),
            "Epodes": datetime.date(2001, 2, 3),
        }

    def test_the_export_form_field_narrows_the_export(self, admin_client):
        Book.objects.create(name="Cheap", price="2.00")
        dear = Book.objects.create(name="Dear", price="20.00")
        html = admin_client.get("/priced/core/book/export/").content.decode()
        assert 'name="min_price"' in html
        text = export_csv(
            admin_client,
            "/priced/core/book/export/",
            resource="0",
            min_price="10",
            **{"minimumpricebookresource_id": "on", "minimumpricebookresource_name": "on"},
        )
        assert text.splitlines() == ["id,name", f"{dear.pk},Dear"]


class TestTemplatesAndLog:
    def test_the_custom_import_template_is_used_and_no_log_is_written(self, admin_client):
        templates = [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [str(TEMPLATES_DIR)],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ]
        with override_settings(TEMPLATES=templates):
            html = admin_client.get("/quiet/core/book/import/").content.decode()
            assert "Prices are in euros." in html
            assert 'name="import_file"' in html  # the rest of the stock page is still there
            response = preview(admin_client, "quiet", "id,name\n,Odes\n")
            confirm(admin_client, "quiet", response)
        assert Book.objects.filter(name="Odes").exists()
        assert not LogEntry.objects.exists()

    @override_settings(IMPORT_EXPORT_SKIP_ADMIN_LOG=True)
    def test_the_setting_skips_the_log_for_every_admin(self, admin_client):
        response = preview(admin_client, "books", "id,name\n,Odes\n")
        confirm(admin_client, "books", response)
        assert Book.objects.filter(name="Odes").exists()
        assert not LogEntry.objects.exists()
