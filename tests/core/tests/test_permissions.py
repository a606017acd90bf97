"""Import and export permissions are enforced by every view and action, not only in templates."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from core.models import Author, Book

pytestmark = pytest.mark.django_db

CODES = {
    "IMPORT_EXPORT_IMPORT_PERMISSION_CODE": "import",
    "IMPORT_EXPORT_EXPORT_PERMISSION_CODE": "export",
}


@pytest.fixture(autouse=True)
def permission_codes():
    with override_settings(**CODES):
        yield


def grant(user, *codenames, model=Book):
    """Give ``user`` the named permissions on ``model``, creating custom ones as needed."""
    content_type = ContentType.objects.get_for_model(model)
    for codename in codenames:
        permission, _ = Permission.objects.get_or_create(
            codename=codename, content_type=content_type, defaults={"name": codename}
        )
        user.user_permissions.add(permission)


@pytest.fixture
def staff(client, django_user_model):
    """A logged-in staff user who may view and change books and authors, but not import/export."""
    user = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    grant(user, "view_book", "change_book", "add_book")
    grant(user, "view_author", "change_author", model=Author)
    client.force_login(user)
    return user


def fresh(client, user):
    """Permissions are cached on the user object; log in again to see new ones."""
    client.force_login(type(user).objects.get(pk=user.pk))


def upload():
    return SimpleUploadedFile("b.csv", b"id,name\n,New\n")


class TestWithoutPermission:
    @pytest.mark.parametrize(
        "method, url",
        [
            ("get", "/admin/core/book/import/"),
            ("post", "/admin/core/book/import/"),
            ("post", "/admin/core/book/process_import/"),
            ("get", "/admin/core/book/export/"),
            ("post", "/admin/core/book/export/"),
            ("get", "/admin/core/author/import/"),
            ("get", "/admin/core/author/export/"),
        ],
    )
    def test_each_url_answers_403(self, client, staff, method, url):
        data = {}
        if method == "post":
            data = {"format": "0", "import_file": upload(), "import_file_name": "x"}
        response = getattr(client, method)(url, data)
        assert response.status_code == 403

    def test_import_post_does_not_touch_data(self, client, staff):
        client.post("/admin/core/book/import/", {"format": "0", "import_file": upload()})
        with override_settings(IMPORT_EXPORT_SKIP_ADMIN_CONFIRM=True):
            client.post("/admin/core/book/import/", {"format": "0", "import_file": upload()})
        assert Book.objects.count() == 0

    def test_skip_export_ui_still_checks(self, client, staff):
        with override_settings(IMPORT_EXPORT_SKIP_ADMIN_EXPORT_UI=True):
            assert client.get("/admin/core/book/export/").status_code == 403

    def test_buttons_hidden_on_change_list(self, client, staff):
        response = client.get("/admin/core/book/")
        assert response.status_code == 200
        assert b"import_link" not in response.content
        assert b"export_link" not in response.content

    def test_export_action_not_offered_and_refused(self, client, staff):
        author = Author.objects.create(name="Ann")
        response = client.get("/admin/core/author/")
        assert b"export_admin_action" not in response.content
        response = client.post(
            "/admin/core/author/",
            {"action": "export_admin_action", "_selected_action": [str(author.pk)]},
        )
        # Django refuses an action it does not list: the change list again, no export page.
        assert not getattr(response, "streaming", False)
        assert "admin/import_export/export.html" not in [t.name for t in response.templates]
        assert "selected item" not in response.content.decode()

    def test_export_action_called_directly_is_refused(self, rf, staff):
        from django.contrib import admin
        from django.core.exceptions import PermissionDenied

        request = rf.post("/")
        request.user = staff
        model_admin = admin.site._registry[Author]
        with pytest.raises(PermissionDenied):
            model_admin.export_admin_action(request, Author.objects.all())

    def test_change_form_export_button_hidden_and_refused(self, client, staff):
        author = Author.objects.create(name="Ann")
        url = f"/admin/core/author/{author.pk}/change/"
        assert b'name="_export-item"' not in client.get(url).content
        response = client.post(url, {"name": "Ann", "_export-item": "Export"})
        assert response.status_code == 403


class TestWithPermission:
    def test_import_permission_opens_import_only(self, client, staff):
        grant(staff, "import_book")
        fresh(client, staff)
        assert client.get("/admin/core/book/import/").status_code == 200
        assert client.get("/admin/core/book/export/").status_code == 403
        html = client.get("/admin/core/book/").content
        assert b"import_link" in html and b"export_link" not in html

    def test_export_permission_opens_export_only(self, client, staff):
        grant(staff, "export_book")
        fresh(client, staff)
        assert client.get("/admin/core/book/export/").status_code == 200
        assert client.get("/admin/core/book/import/").status_code == 403
        response = client.post(
            "/admin/core/book/export/", {"format": "0", "bookresource_name": "on"}
        )
        assert response.status_code == 200 and response.streaming

    def test_full_import_with_permission(self, client, staff):
        grant(staff, "import_book")
        fresh(client, staff)
        preview = client.post("/admin/core/book/import/", {"format": "0", "import_file": upload()})
        form = preview.context["confirm_form"]
        data = {name: form.initial.get(name, "") for name in form.fields}
        assert client.post("/admin/core/book/process_import/", data).status_code == 302
        assert Book.objects.get().name == "New"

    def test_export_action_with_permission(self, client, staff):
        grant(staff, "export_author", model=Author)
        fresh(client, staff)
        author = Author.objects.create(name="Ann")
        response = client.post(
            "/admin/core/author/",
            {"action": "export_admin_action", "_selected_action": [str(author.pk)]},
        )
        assert response.status_code == 200
        assert "Export 1 selected item." in response.content.decode()

    def test_builtin_permission_code(self, client, staff):
        """A code naming a built-in action (``view``) uses Django's own permission."""
        with override_settings(IMPORT_EXPORT_EXPORT_PERMISSION_CODE="view"):
            assert client.get("/admin/core/book/export/").status_code == 200
        with override_settings(IMPORT_EXPORT_IMPORT_PERMISSION_CODE="delete"):
            assert client.get("/admin/core/book/import/").status_code == 403


class TestNoPermissionCodeSet:
    def test_any_staff_user_may_import_and_export(self, client, staff):
        """Upstream's documented default: without a code, admin access is enough."""
        with override_settings(
            IMPORT_EXPORT_IMPORT_PERMISSION_CODE=None, IMPORT_EXPORT_EXPORT_PERMISSION_CODE=None
        ):
            assert client.get("/admin/core/book/import/").status_code == 200
            assert client.get("/admin/core/book/export/").status_code == 200

    def test_anonymous_users_are_sent_to_login(self, client):
        response = client.get("/admin/core/book/export/")
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
