"""The export action on the change list's "Select all N": one signed token instead of N fields.

The browser test (tests/e2e/test_admin_select_all_browser.py) shows 60,000 rows; these tests
drive the same path with the test client: the rows exported, the permission checked again at the
download, hostile tokens and query strings, and a query count that does not depend on N.
"""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from core.admin import AuthorAdmin
from core.models import Author, Category
from import_export.admin import SELECTION_FIELD, ExportMixin
from import_export.formats import base_formats

pytestmark = pytest.mark.django_db

CHANGE_LIST = "/admin/core/author/"
EXPORT = "/admin/core/author/export/"
CSV_INDEX = str(base_formats.DEFAULT_FORMATS.index(base_formats.CSV))
#: A narrowed change list: authors with a birthday whose name contains "keep".
NARROWED = "?birthday__isnull=False&q=keep"
BIRTHDAY = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def make_authors(count: int, start: int = 0) -> list[Author]:
    """Authors of four kinds: with or without a birthday, named "keep" or "drop"."""
    return Author.objects.bulk_create(
        Author(
            name=f"{'keep' if number % 2 else 'drop'} {number}",
            birthday=BIRTHDAY if number % 4 < 2 else None,
        )
        for number in range(start, start + count)
    )


def select_all(client, query: str = "", ticked=None):
    """Post the action as the change list does after "Select all N": the page's ticked boxes
    plus ``select_across=1``."""
    ticked = ticked if ticked is not None else Author.objects.order_by("-pk")[:3]
    return client.post(
        CHANGE_LIST + query,
        {
            "action": "export_admin_action",
            "select_across": "1",
            "index": "0",
            "_selected_action": [str(author.pk) for author in ticked],
        },
    )


def export_post(token: str, **extra) -> dict:
    data = {
        "format": CSV_INDEX,
        "resource": "0",
        "authorresource_id": "on",
        "authorresource_name": "on",
        SELECTION_FIELD: token,
    }
    data.update(extra)
    return data


def token_of(response) -> str:
    return response.context["form"].initial[SELECTION_FIELD]


def exported_rows(response) -> list[dict]:
    assert response.status_code == 200, response.content[:500]
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def expected_names(queryset) -> list[str]:
    """The change list's default order (descending primary key) of ``queryset``."""
    return list(queryset.order_by("-pk").values_list("name", flat=True))


class TestSelectAllReachesTheForm:
    def test_the_form_carries_one_token_not_one_field_per_row(self, admin_client):
        make_authors(40)
        response = select_all(admin_client, NARROWED)
        html = response.content.decode()
        assert response.status_code == 200
        assert 'name="export_items"' not in html
        assert html.count(f'name="{SELECTION_FIELD}"') == 1
        assert "Export 10 selected items." in html
        assert f'action="{EXPORT}?birthday__isnull=False&amp;q=keep"' in html

    def test_the_selection_passes_django_field_limit(self, admin_client):
        """Far more rows than DATA_UPLOAD_MAX_NUMBER_FIELDS allows fields still export."""
        make_authors(300)
        with override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=50):
            token = token_of(select_all(admin_client))
            rows = exported_rows(admin_client.post(EXPORT, export_post(token)))
            # The control: the same rows as one hidden key each is refused (HTTP 400).
            one_field_per_row = export_post("", export_items=[row["id"] for row in rows])
            del one_field_per_row[SELECTION_FIELD]
            assert admin_client.post(EXPORT, one_field_per_row).status_code == 400
        assert len(rows) == 300

    def test_a_few_ticked_rows_keep_upstream_hidden_keys(self, admin_client):
        authors = make_authors(5)
        response = admin_client.post(
            CHANGE_LIST,
            {
                "action": "export_admin_action",
                "select_across": "0",
                "_selected_action": [str(authors[0].pk), str(authors[3].pk)],
            },
        )
        html = response.content.decode()
        assert html.count('name="export_items"') == 2
        assert SELECTION_FIELD not in html
        assert "Export 2 selected items." in html


class TestTheFileHasExactlyTheSelectedRows:
    def test_all_rows(self, admin_client):
        make_authors(25)
        rows = exported_rows(
            admin_client.post(EXPORT, export_post(token_of(select_all(admin_client))))
        )
        assert [row["name"] for row in rows] == expected_names(Author.objects.all())

    def test_filter_and_search(self, admin_client):
        make_authors(40)
        token = token_of(select_all(admin_client, NARROWED))
        rows = exported_rows(admin_client.post(EXPORT + NARROWED, export_post(token)))
        expected = expected_names(
            Author.objects.filter(birthday__isnull=False, name__contains="keep")
        )
        assert len(expected) == 10
        assert [row["name"] for row in rows] == expected

    def test_select_all_from_a_later_page_is_every_page(self, admin_client):
        make_authors(150)  # two pages of the change list (list_per_page = 100)
        token = token_of(select_all(admin_client, "?p=2"))
        rows = exported_rows(admin_client.post(EXPORT + "?p=2", export_post(token)))
        assert [row["name"] for row in rows] == expected_names(Author.objects.all())

    def test_ordering_of_the_change_list(self, admin_client, monkeypatch):
        monkeypatch.setattr(AuthorAdmin, "list_display", ("name", "birthday"))
        make_authors(12)
        query = "?o=-1"  # by the first column (the name), descending
        token = token_of(select_all(admin_client, query))
        rows = exported_rows(admin_client.post(EXPORT + query, export_post(token)))
        names = [row["name"] for row in rows]
        assert names == sorted(names, reverse=True) and len(names) == 12

    def test_the_query_count_does_not_grow_with_the_rows(self, admin_client):
        def queries_for(count: int) -> tuple[int, int]:
            Author.objects.all().delete()
            make_authors(count)
            with CaptureQueriesContext(connection) as action:
                token = token_of(select_all(admin_client, NARROWED))
            with CaptureQueriesContext(connection) as download:
                assert len(exported_rows(admin_client.post(EXPORT + NARROWED, export_post(token))))
            return len(action), len(download)

        assert queries_for(8) == queries_for(400)


@pytest.fixture
def exporter(django_user_model, client):
    """A staff user who may view authors and export them (with an export permission code)."""
    user = django_user_model.objects.create_user("exporter", password="x", is_staff=True)
    content_type = ContentType.objects.get_for_model(Author)
    for codename in ("view_author", "export_author"):
        permission, _ = Permission.objects.get_or_create(
            codename=codename, content_type=content_type, defaults={"name": codename}
        )
        user.user_permissions.add(permission)
    client.force_login(user)
    return user


def revoke(user, codename: str) -> None:
    user.user_permissions.remove(Permission.objects.get(codename=codename))


class TestPermissionsAreCheckedAtTheDownload:
    @pytest.fixture(autouse=True)
    def export_permission_code(self, settings):
        settings.IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"

    def test_a_valid_token_without_export_permission_is_403(self, client, exporter):
        make_authors(6)
        token = token_of(select_all(client))
        revoke(exporter, "export_author")
        response = client.post(EXPORT, export_post(token))
        assert response.status_code == 403

    def test_a_valid_token_without_view_permission_is_403(self, client, exporter):
        make_authors(6)
        token = token_of(select_all(client))
        revoke(exporter, "view_author")
        response = client.post(EXPORT, export_post(token))
        assert response.status_code == 403

    def test_the_same_user_with_both_permissions_downloads(self, client, exporter):
        make_authors(6)
        token = token_of(select_all(client))
        assert len(exported_rows(client.post(EXPORT, export_post(token)))) == 6


class TestHostileSelections:
    def assert_refused(self, response, text: str):
        assert response.status_code == 200
        assert not response.streaming
        errors = response.context["form"].non_field_errors()
        assert any(text in error for error in errors), errors

    def test_a_tampered_token(self, admin_client):
        make_authors(4)
        token = token_of(select_all(admin_client))
        forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
        self.assert_refused(admin_client.post(EXPORT, export_post(forged)), "cannot be exported")

    def test_garbage_and_empty_tokens(self, admin_client):
        for token in ("", "x", "a:b:c", "{}" * 500):
            response = admin_client.post(EXPORT, export_post(token))
            self.assert_refused(response, "cannot be exported")

    def test_a_widened_query_string(self, admin_client):
        """A token made for the narrowed change list does not export the whole table."""
        make_authors(20)
        token = token_of(select_all(admin_client, NARROWED))
        self.assert_refused(admin_client.post(EXPORT, export_post(token)), "cannot be exported")
        other = EXPORT + "?birthday__isnull=True&q=keep"
        self.assert_refused(admin_client.post(other, export_post(token)), "cannot be exported")

    def test_the_parameters_may_come_in_another_order(self, admin_client):
        make_authors(20)
        token = token_of(select_all(admin_client, NARROWED))
        swapped = EXPORT + "?q=keep&birthday__isnull=False"
        assert len(exported_rows(admin_client.post(swapped, export_post(token)))) == 5

    def test_another_users_token(self, admin_client, django_user_model, client):
        make_authors(4)
        token = token_of(select_all(admin_client))
        other = django_user_model.objects.create_superuser("other", "o@example.com", "x")
        client.force_login(other)
        self.assert_refused(client.post(EXPORT, export_post(token)), "another user")

    def test_a_token_made_on_another_model(self, admin_client):
        Category.objects.create(name="c")
        response = admin_client.post(
            "/admin/core/category/",
            {"action": "export_admin_action", "select_across": "1", "_selected_action": ["1"]},
        )
        token = token_of(response)
        self.assert_refused(admin_client.post(EXPORT, export_post(token)), "another model")

    def test_an_expired_token(self, admin_client, monkeypatch):
        make_authors(4)
        token = token_of(select_all(admin_client))
        monkeypatch.setattr(ExportMixin, "export_selection_max_age", -1)
        self.assert_refused(admin_client.post(EXPORT, export_post(token)), "expired")

    def test_an_unknown_filter_parameter_is_no_500(self, admin_client):
        make_authors(4)
        token = token_of(select_all(admin_client))
        response = admin_client.post(EXPORT + "?no_such_field=1", export_post(token))
        assert response.status_code == 302
        assert response["Location"] == CHANGE_LIST + "?e=1"
