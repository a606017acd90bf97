"""The ``values_list()`` reading of plain exports gives exactly the rows model instances give."""

import datetime
import decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from core.models import (
    AllTypes,
    Author,
    Book,
    Category,
    Magazine,
    Package,
    Place,
    Profile,
    Publisher,
    Repository,
    Restaurant,
    UUIDBook,
    UUIDCategory,
)
from core.resources import PackageResource
from import_export import fields, resources, widgets


@pytest.fixture
def everything(db):
    ann = Author.objects.create(
        name="Ann", birthday=datetime.datetime(1970, 1, 2, tzinfo=datetime.UTC)
    )
    fiction = Category.objects.create(name="fiction")
    for index, author in enumerate([ann, None, ann]):
        book = Book.objects.create(
            name=f"Book {index}",
            author=author,
            price=decimal.Decimal("9.99") if index else None,
            published=datetime.date(2020, 1, 1) if index else None,
        )
        book.categories.add(fiction)
    AllTypes.objects.create(
        char="x", json={"k": [1]}, duration=datetime.timedelta(hours=1), boolean=True
    )
    AllTypes.objects.create()
    UUIDBook.objects.create(name="u", author=ann).categories.add(
        UUIDCategory.objects.create(name="c")
    )
    penguin = Publisher.objects.create(name="Penguin")
    Magazine.objects.create(title="M", publisher=penguin)
    Magazine.objects.create(title="N")
    Place.objects.create(name="Park")
    Restaurant.objects.create(name="Pizzeria", serves_pizza=True, rating=4)
    repository = Repository.objects.create(name="baseos")
    Package.objects.create(
        repository=repository, name="bash", version="5", release="1", arch="x86_64", pkg_id="a"
    )
    Profile.objects.create(user=User.objects.create(username="joe"))


def _rows(resource_class, queryset=None, optimise=True):
    meta = type("Meta", (resource_class.Meta,), {"optimize_export_queries": optimise})
    resource = type("Variant", (resource_class,), {"Meta": meta})()
    return [list(row) for row in resource.export(queryset)]


def _resource_for(model):
    return resources.modelresource_factory(model)


@pytest.mark.parametrize(
    "model", list(apps.get_app_config("core").get_models()), ids=lambda m: m.__name__
)
def test_every_model_exports_the_same_rows_either_way(everything, model):
    resource_class = _resource_for(model)
    assert _rows(resource_class) == _rows(resource_class, optimise=False)


class BookPathsResource(resources.ModelResource):
    author_name = fields.Field(attribute="author__name", column_name="author_name")
    author_birthday = fields.Field(
        attribute="author__birthday", column_name="born", widget=widgets.DateTimeWidget()
    )
    author_by_name = fields.Field(
        attribute="author", column_name="by", widget=widgets.ForeignKeyWidget(Author, "name")
    )

    class Meta:
        model = Book
        fields = (
            "id",
            "name",
            "price",
            "published",
            "author",
            "author_name",
            "author_birthday",
            "author_by_name",
        )


def test_relation_paths_and_foreign_key_widgets_match_instances(everything):
    rows = _rows(BookPathsResource)
    assert rows == _rows(BookPathsResource, optimise=False)
    assert [row[-1] for row in rows] == ["Ann", "", "Ann"]  # a missing author renders empty


def test_plain_exports_are_read_with_values_list(everything):
    resource = PackageResource()
    plan = resource.get_export_plan()
    assert plan.value_columns(Package.objects.order_by("pk")) is not None
    with CaptureQueriesContext(connection) as queries:
        rows = list(resource.export_iter(Package.objects.order_by("pk")))
    assert len(rows) == 1 and len(queries) == 1
    assert '"core_repository"."name"' in queries[0]["sql"]


def _value_columns(resource, queryset):
    return resource.get_export_plan().value_columns(queryset)


class DehydratingResource(PackageResource):
    def dehydrate_name(self, package):
        return package.name.upper()


class CustomWidget(widgets.CharWidget):
    def render(self, value, obj=None, **kwargs):
        return f"<{value}>"


class CustomWidgetResource(PackageResource):
    name = fields.Field(attribute="name", column_name="name", widget=CustomWidget())


class OwnIterationResource(PackageResource):
    def iter_queryset(self, queryset):
        yield from queryset


@pytest.mark.parametrize(
    "resource_class",
    [DehydratingResource, CustomWidgetResource, OwnIterationResource],
    ids=["dehydrate", "custom-widget", "iter_queryset"],
)
def test_custom_rendering_keeps_model_instances(everything, resource_class):
    assert _value_columns(resource_class(), Package.objects.order_by("pk")) is None
    assert _rows(resource_class) == _rows(resource_class, optimise=False)


@pytest.mark.parametrize(
    "make_queryset",
    [
        lambda: Package.objects.order_by("pk").distinct(),
        lambda: Package.objects.order_by("pk").annotate(n=Count("pk")),
        lambda: Package.objects.order_by("pk").prefetch_related("repository"),
        lambda: Package.objects.order_by("pk").values("pk"),
        lambda: Package.objects.filter(pk=1).union(Package.objects.filter(pk=2)).order_by("pk"),
    ],
    ids=["distinct", "annotate", "prefetch", "values", "union"],
)
def test_querysets_values_list_would_change_keep_model_instances(everything, make_queryset):
    assert _value_columns(PackageResource(), make_queryset()) is None


@pytest.mark.parametrize("model", [AllTypes, Author, Magazine, Restaurant, Package, Profile])
def test_models_without_many_to_many_are_read_with_values_list(everything, model):
    assert _value_columns(_resource_for(model)(), model.objects.order_by("pk")) is not None


def test_many_to_many_columns_keep_model_instances(everything):
    assert _value_columns(_resource_for(Book)(), Book.objects.order_by("pk")) is None
