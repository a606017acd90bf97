"""The examples of docs/advanced_resources.rst (core/manual/advanced_resources.py) do what the
page says, on the classic export, the streamed export and the import."""

import datetime
import io
import json
from decimal import Decimal

import pytest
import tablib
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.urls import reverse

from core.manual import advanced_resources as examples
from core.models import Author, Book, Category, Magazine, Publisher
from import_export import widgets

pytestmark = pytest.mark.django_db


def csv_of(resource, queryset=None):
    """The streamed CSV export, as the admin and ``manage.py export`` write it."""
    buffer = io.StringIO()
    resource.export_to_stream("csv", buffer, queryset=queryset)
    return buffer.getvalue()


def dataset(headers, *rows):
    return tablib.Dataset(*rows, headers=headers)


@pytest.fixture
def books():
    ann = Author.objects.create(
        name="Ann", birthday=datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    )
    bob = Author.objects.create(name="Bob")
    first = Book.objects.create(
        name="dune", author=ann, price=Decimal("9.99"), published=datetime.date(2024, 3, 1)
    )
    second = Book.objects.create(name="emma", author=None, price=None)
    return ann, bob, first, second


# -- declaring fields ------------------------------------------------------------------------
def test_declared_fields_export_in_export_order_with_their_headers(books):
    _, _, first, second = books
    exported = examples.BookResource().export(Book.objects.order_by("id"))
    assert exported.headers == ["id", "name", "Label", "Author", "Price", "published", "Shelf"]
    assert exported.dict[0] == {
        "id": str(first.pk),
        "name": "dune",
        "Label": "dune by Ann",
        "Author": "Ann",
        "Price": "9.99",
        "published": "01.03.2024",
        "Shelf": "D",
    }
    assert exported.dict[1]["Label"] == "emma by anonymous"
    assert exported.dict[1]["Author"] == ""
    streamed = csv_of(examples.BookResource(), Book.objects.order_by("id"))
    assert streamed.splitlines()[1] == f"{first.pk},dune,dune by Ann,Ann,9.99,01.03.2024,D"


def test_readonly_field_is_not_imported_and_an_empty_cell_takes_the_default(books):
    _, _, first, _ = books
    rows = dataset(
        ["id", "name", "Author", "Price", "published"],
        [first.pk, "dune 2", "Somebody else", "", "02.04.2025"],
    )
    result = examples.BookResource().import_data(rows, raise_errors=True)
    assert result.totals["update"] == 1
    first.refresh_from_db()
    assert first.name == "dune 2"
    assert first.author.name == "Ann"  # readonly: the column was ignored
    assert first.price == Decimal("0.00")  # the field's default for an empty cell
    assert first.published == datetime.date(2025, 4, 2)  # Meta.widgets format


def test_a_declared_field_without_widget_gets_the_base_widget_generated_ones_their_own():
    resource = examples.BookResource()
    assert type(resource.fields["price"].widget) is widgets.DecimalWidget  # passed explicitly
    assert type(resource.fields["shelf"].widget) is widgets.Widget  # declared without one
    assert type(resource.fields["published"].widget) is widgets.DateWidget  # generated


# -- dynamic fields ----------------------------------------------------------------------------
def test_a_field_added_in_init_exists_only_when_asked_for(books):
    assert examples.BookWithOptionalEmailResource().get_export_headers() == ["id", "name"]
    with_email = examples.BookWithOptionalEmailResource(with_email=True)
    assert with_email.get_export_headers() == ["id", "name", "email"]
    assert csv_of(with_email, Book.objects.order_by("id")).splitlines()[0] == "id,name,email"
    # The class is not changed by one instance's extra field.
    assert "author_email" not in examples.BookWithOptionalEmailResource().fields


def test_per_user_fields_hide_the_price_from_everyone_but_superusers(books, django_user_model):
    _, _, first, _ = books
    clerk = django_user_model.objects.create_user("clerk")
    boss = django_user_model.objects.create_superuser("boss")
    clerk_csv = csv_of(examples.PerUserBookResource(user=clerk), Book.objects.order_by("id"))
    boss_csv = csv_of(examples.PerUserBookResource(user=boss), Book.objects.order_by("id"))
    assert clerk_csv.splitlines()[:2] == ["ID,NAME", f"{first.pk},dune"]
    assert boss_csv.splitlines()[:2] == ["ID,NAME,PRICE", f"{first.pk},dune,9.99"]
    # On import, a clerk's price column is ignored.
    rows = dataset(["id", "name", "price"], [first.pk, "dune", "1.00"])
    examples.PerUserBookResource(user=clerk).import_data(rows, raise_errors=True)
    first.refresh_from_db()
    assert first.price == Decimal("9.99")
    examples.PerUserBookResource(user=boss).import_data(rows, raise_errors=True)
    first.refresh_from_db()
    assert first.price == Decimal("1.00")


@override_settings(ROOT_URLCONF="core.manual.advanced_resources")
def test_the_admin_hands_the_user_to_the_resource(books, client, django_user_model):
    _, _, first, _ = books
    staff = django_user_model.objects.create_user("clerk", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__endswith="_book"))
    boss = django_user_model.objects.create_superuser("boss", "b@example.com", "pw")
    export = {"format": "0", "resource": "0"}
    export.update({f"peruserbookresource_{name}": "on" for name in ("id", "name", "price")})
    url = reverse("admin:core_book_export") + f"?id__exact={first.pk}"
    for user, expected in ((staff, "ID,NAME"), (boss, "ID,NAME,PRICE")):
        client.force_login(user)
        response = client.post(url, export)
        assert response.status_code == 200
        assert b"".join(response.streaming_content).decode().splitlines()[0] == expected


# -- widgets -----------------------------------------------------------------------------------
def test_catalogue_widgets_round_trip(books):
    _, _, first, _ = books
    fiction = Category.objects.create(name="fiction")
    classic = Category.objects.create(name="classic")
    first.categories.set([fiction, classic])
    first.imported = True
    first.save()
    exported = examples.CatalogueResource().export(Book.objects.filter(pk=first.pk))
    assert exported.dict[0] == {
        "id": str(first.pk),
        "name": "dune",
        "categories": "fiction|classic",
        "imported": "yes",
        "published": "01/03/2024",
        "cents": "999",
    }
    rows = dataset(
        ["id", "name", "categories", "imported", "published", "cents"],
        [first.pk, "dune", "classic|", "no", "31/12/2023", "1250"],
    )
    examples.CatalogueResource().import_data(rows, raise_errors=True)
    first.refresh_from_db()
    assert list(first.categories.values_list("name", flat=True)) == ["classic"]
    assert first.imported is False
    assert first.published == datetime.date(2023, 12, 31)
    assert first.price == Decimal("12.50")


def test_a_bad_date_is_a_row_error_naming_the_value(books):
    _, _, first, _ = books
    rows = dataset(["id", "name", "published"], [first.pk, "dune", "2024-13-45"])
    result = examples.CatalogueResource().import_data(rows)
    assert result.has_validation_errors()
    (invalid,) = result.invalid_rows
    assert "published" in invalid.field_specific_errors
    first.refresh_from_db()
    assert first.published == datetime.date(2024, 3, 1)


def test_a_value_error_in_a_custom_widget_is_a_validation_error_of_its_column(books):
    _, _, first, _ = books
    rows = dataset(["id", "name", "cents"], [first.pk, "dune", "twelve"])
    result = examples.CatalogueResource().import_data(rows)
    (invalid,) = result.invalid_rows
    # Keyed by the field's name on the resource (not the column's header), as upstream.
    assert list(invalid.field_specific_errors) == ["price"]
    first.refresh_from_db()
    assert first.price == Decimal("9.99")


def test_the_standalone_widget_calls_shown_on_the_page():
    assert widgets.JSONWidget().clean('{"a": [1, 2]}') == {"a": [1, 2]}
    assert widgets.JSONWidget().render({"a": 1}) == '{"a": 1}'
    assert widgets.JSONWidget().render({}) is None
    assert widgets.SimpleArrayWidget(separator=";").clean("a;b") == ["a", "b"]
    assert widgets.SimpleArrayWidget(separator=";").render(["a", "b"]) == "a;b"
    assert widgets.BooleanWidget().clean("") is None
    assert widgets.BooleanWidget().render(True) == "1"
    assert widgets.DateWidget("%d/%m/%Y").clean("31/12/2023") == datetime.date(2023, 12, 31)
    assert examples.CentsWidget().clean("1999") == Decimal("19.99")
    assert examples.CentsWidget().render(Decimal("19.99")) == "1999"


# -- natural keys ------------------------------------------------------------------------------
@pytest.fixture
def magazines():
    acme = Publisher.objects.create(name="Acme")
    return acme, Magazine.objects.create(title="Monthly", publisher=acme, issue=3)


def test_foreign_key_by_name(magazines):
    acme, monthly = magazines
    exported = examples.MagazineByNameResource().export(Magazine.objects.all())
    assert exported.dict == [
        {"id": str(monthly.pk), "title": "Monthly", "issue": "3", "publisher": "Acme"}
    ]
    other = Publisher.objects.create(name="Other")
    rows = dataset(["id", "title", "issue", "publisher"], [monthly.pk, "Monthly", 4, "Other"])
    examples.MagazineByNameResource().import_data(rows, raise_errors=True)
    monthly.refresh_from_db()
    assert monthly.publisher == other


def test_a_missing_name_is_a_row_error_and_nothing_changes(magazines):
    acme, monthly = magazines
    rows = dataset(["id", "title", "issue", "publisher"], [monthly.pk, "Monthly", 4, "Nobody"])
    result = examples.MagazineByNameResource().import_data(rows)
    # As upstream, a missing related object is a row error (not a validation error).
    assert not result.invalid_rows
    ((number, (error,)),) = result.row_errors()
    assert (number, str(error.error)) == (1, "Publisher matching query does not exist.")
    monthly.refresh_from_db()
    assert (monthly.publisher, monthly.issue) == (acme, 3)


def test_natural_foreign_keys_travel_as_json_lists(magazines):
    acme, monthly = magazines
    exported = examples.MagazineNaturalKeyResource().export(Magazine.objects.all())
    assert json.loads(exported.dict[0]["publisher"]) == ["Acme"]
    Publisher.objects.create(name="Other")
    rows = dataset(["id", "title", "issue", "publisher"], [monthly.pk, "Monthly", 3, '["Other"]'])
    examples.MagazineNaturalKeyResource().import_data(rows, raise_errors=True)
    monthly.refresh_from_db()
    assert monthly.publisher.name == "Other"


def test_get_queryset_narrows_the_authors_a_row_may_name(books):
    _, bob, first, _ = books
    rows = dataset(["id", "name", "author"], [first.pk, "dune", "Bob"])
    result = examples.BookByKnownAuthorResource().import_data(rows)
    ((number, (error,)),) = result.row_errors()
    assert (number, str(error.error)) == (1, "Author matching query does not exist.")
    first.refresh_from_db()
    assert first.author.name == "Ann"
    rows = dataset(["id", "name", "author"], [first.pk, "dune", "Ann"])
    assert not examples.BookByKnownAuthorResource().import_data(rows).has_errors()


# -- instance loaders --------------------------------------------------------------------------
def test_import_id_fields_by_name_update_without_ids():
    Category.objects.create(name="fiction")
    rows = dataset(["name"], ["fiction"], ["poetry"])
    result = examples.CategoryByNameResource().import_data(rows, raise_errors=True)
    assert (result.totals["update"], result.totals["new"]) == (1, 1)
    assert sorted(Category.objects.values_list("name", flat=True)) == ["fiction", "poetry"]


def test_a_custom_loader_matches_names_case_insensitively():
    fiction = Category.objects.create(name="Fiction")
    rows = dataset(["name"], ["  fiction "], ["Poetry"])
    result = examples.ForgivingCategoryResource().import_data(rows, raise_errors=True)
    assert (result.totals["update"], result.totals["new"]) == (1, 1)
    fiction.refresh_from_db()
    assert fiction.name == "fiction"
    assert Category.objects.count() == 2


def test_get_queryset_limits_export_and_the_rows_an_import_updates():
    draft = Book.objects.create(name="draft one")
    kept = Book.objects.create(name="final")
    assert [row["name"] for row in examples.VisibleBooksResource().export().dict] == ["final"]
    rows = dataset(["id", "name"], [kept.pk, "final 2"])
    result = examples.VisibleBooksResource().import_data(rows, raise_errors=True)
    assert result.totals["update"] == 1
    # The draft is not in the queryset: its id is not found, so the row is new.
    rows = dataset(["id", "name"], [draft.pk, "changed"])
    result = examples.VisibleBooksResource().import_data(rows)
    # The database refuses a second row with the draft's key: a row error, rolled back.
    assert result.has_errors()
    assert [number for number, _ in result.row_errors()] == [1]
    draft.refresh_from_db()
    assert draft.name == "draft one"


# -- modelresource_factory ---------------------------------------------------------------------
def test_modelresource_factory_builds_the_ticked_columns(books):
    _, _, first, _ = books
    resource = examples.book_resource_for(["name", "price"])()
    assert resource.get_export_headers() == ["id", "name", "price", "author", "shout"]
    assert csv_of(resource, Book.objects.filter(pk=first.pk)).splitlines()[1] == (
        f"{first.pk},dune,9.99,Ann,DUNE"
    )
