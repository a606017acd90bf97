"""Exporting: ``Resource.export()`` and ``Resource.export_iter()``.

Expected cells are written out by hand from the model data each test creates; they match what
django-import-export 4.4 produces for the same data, which is what a drop-in replacement owes its
users. The last part checks the query optimisation the export plan adds: a constant number of
queries whatever the number of rows.
"""

import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone as django_timezone

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
from import_export import fields, resources, widgets

pytestmark = pytest.mark.django_db

UTC = UTC
PLUS_TWO = timezone(timedelta(hours=2))


def model_resource(model, body=None, **meta_options):
    """A ModelResource subclass for ``model`` with the given class attributes and Meta options."""
    attrs = dict(body or {})
    attrs["Meta"] = type("Meta", (), {"model": model, **meta_options})
    return type(f"{model.__name__}ExportResource", (resources.ModelResource,), attrs)


def rows(dataset):
    return [list(row) for row in dataset]


def export_rows(resource, queryset=None, **kwargs):
    return rows(resource.export(queryset, **kwargs))


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def library():
    """Two books: one with every column set, one with only its name."""
    ann = Author.objects.create(name="Ann", birthday=datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC))
    fiction = Category.objects.create(name="fiction")
    poetry = Category.objects.create(name="poetry")
    full = Book.objects.create(
        name="Full",
        author=ann,
        author_email="ann@example.com",
        imported=True,
        published=date(2020, 1, 2),
        published_time=time(3, 4, 5),
        price=Decimal("12.50"),
        added=datetime(2020, 1, 2, 3, 4, 5, tzinfo=PLUS_TWO),
    )
    full.categories.set([fiction, poetry])
    bare = Book.objects.create(name="Bare")
    return {"ann": ann, "fiction": fiction, "poetry": poetry, "full": full, "bare": bare}


AUTHOR_BY_NAME = widgets.ForeignKeyWidget(Author, "name")


# -- every model of the test project ------------------------------------------------------------


def test_book_exports_every_column_as_text(library):
    full, ann = library["full"], library["ann"]
    fiction, poetry = library["fiction"], library["poetry"]
    dataset = model_resource(Book)().export(Book.objects.order_by("pk"))

    assert dataset.headers == [
        "id",
        "name",
        "author",
        "author_email",
        "imported",
        "published",
        "published_time",
        "price",
        "added",
        "categories",
    ]
    assert rows(dataset) == [
        [
            str(full.pk),
            "Full",
            ann.pk,  # a raw foreign key id is exported as it is, as upstream does
            "ann@example.com",
            "1",
            "2020-01-02",
            "03:04:05",
            "12.50",
            "2020-01-02 01:04:05",  # aware datetime shown in the current time zone (UTC)
            f"{fiction.pk},{poetry.pk}",
        ],
        [str(library["bare"].pk), "Bare", "", "", "0", "", "", "", "", ""],
    ]


def test_book_exports_native_types_with_force_native_type(library):
    full, bare = library["full"], library["bare"]
    dataset = model_resource(Book)().export(Book.objects.order_by("pk"), force_native_type=True)

    assert rows(dataset) == [
        [
            full.pk,
            "Full",
            library["ann"].pk,
            "ann@example.com",
            True,
            date(2020, 1, 2),
            time(3, 4, 5),
            Decimal("12.50"),
            datetime(2020, 1, 2, 1, 4, 5),  # made naive in the current time zone
            f"{library['fiction'].pk},{library['poetry'].pk}",
        ],
        [bare.pk, "Bare", "", "", False, None, None, None, "", ""],
    ]


def test_aware_datetimes_are_exported_in_the_active_time_zone(library):
    resource = model_resource(Book, fields=("added",))()
    queryset = Book.objects.filter(pk=library["full"].pk)
    with django_timezone.override("Asia/Tokyo"):
        assert export_rows(resource, queryset) == [["2020-01-02 10:04:05"]]
        native = export_rows(resource, queryset, force_native_type=True)
    assert native == [[datetime(2020, 1, 2, 10, 4, 5)]]


def test_relation_paths_and_foreign_key_by_name(library):
    resource = model_resource(
        Book,
        fields=("id", "author__name", "author__birthday", "author"),
        widgets={"author": {"field": "name"}},
    )()
    dataset = resource.export(Book.objects.order_by("pk"))

    assert dataset.headers == ["id", "author__name", "author__birthday", "author"]
    assert rows(dataset) == [
        [str(library["full"].pk), "Ann", "2001-02-03 04:05:06", "Ann"],
        [str(library["bare"].pk), "", "", ""],
    ]


def test_declared_foreign_key_widget_by_name(library):
    resource = model_resource(
        Book,
        {
            "author": fields.Field(
                attribute="author", widget=widgets.ForeignKeyWidget(Author, "name")
            )
        },
        fields=("name", "author"),
    )()
    assert export_rows(resource, Book.objects.order_by("pk")) == [["Full", "Ann"], ["Bare", ""]]


def test_many_to_many_by_name_with_separator(library):
    resource = model_resource(
        Book,
        {
            "categories": fields.Field(
                attribute="categories",
                widget=widgets.ManyToManyWidget(Category, separator="|", field="name"),
            )
        },
        fields=("name", "categories"),
    )()
    exported = export_rows(resource, Book.objects.order_by("pk"))
    assert exported[1] == ["Bare", ""]
    assert exported[0][0] == "Full"
    assert sorted(exported[0][1].split("|")) == ["fiction", "poetry"]


def test_author_export():
    ann = Author.objects.create(name="Ann", birthday=datetime(1990, 5, 6, 7, 8, 9, tzinfo=UTC))
    nobody = Author.objects.create(name="Nobody")
    dataset = model_resource(Author)().export(Author.objects.order_by("pk"))
    assert dataset.headers == ["id", "name", "birthday"]
    assert rows(dataset) == [
        [str(ann.pk), "Ann", "1990-05-06 07:08:09"],
        [str(nobody.pk), "Nobody", ""],
    ]


def test_all_types_export_as_text():
    filled = AllTypes.objects.create(
        char="c",
        text="long text",
        small_int=-1,
        integer=2,
        big_int=3_000_000_000,
        positive_int=4,
        decimal=Decimal("1.2345"),
        floating=1.5,
        boolean=True,
        nullable_boolean=False,
        date=date(2021, 1, 1),
        datetime=datetime(2021, 1, 1, 12, 0, tzinfo=UTC),
        time=time(1, 2, 3),
        duration=timedelta(days=1, seconds=5),
        json={"a": [1, 2]},
        email="e@example.com",
        slug="a-slug",
        url="https://example.com",
    )
    empty = AllTypes.objects.create()
    dataset = model_resource(AllTypes)().export(AllTypes.objects.order_by("pk"))

    assert dataset.headers == [
        "id",
        "char",
        "text",
        "small_int",
        "integer",
        "big_int",
        "positive_int",
        "decimal",
        "floating",
        "boolean",
        "nullable_boolean",
        "date",
        "datetime",
        "time",
        "duration",
        "json",
        "email",
        "slug",
        "url",
    ]
    assert rows(dataset) == [
        [
            str(filled.pk),
            "c",
            "long text",
            "-1",
            "2",
            "3000000000",
            "4",
            "1.2345",
            "1.5",
            "1",
            "0",
            "2021-01-01",
            "2021-01-01 12:00:00",
            "01:02:03",
            "1 day, 0:00:05",
            '{"a": [1, 2]}',
            "e@example.com",
            "a-slug",
            "https://example.com",
        ],
        # An empty JSON value is None, as upstream: every other empty cell is "".
        [str(empty.pk), "", "", "", "", "", "", "", "", "0", "", "", "", "", "", None, "", "", ""],
    ]


def test_all_types_export_as_native_values():
    AllTypes.objects.create(
        small_int=1,
        decimal=Decimal("2.5000"),
        floating=0.25,
        boolean=True,
        nullable_boolean=None,
        date=date(2021, 1, 1),
        datetime=datetime(2021, 1, 1, 12, 0, tzinfo=UTC),
        time=time(1, 2, 3),
        duration=timedelta(hours=3),
        json=[1, "two"],
    )
    resource = model_resource(
        AllTypes,
        fields=(
            "small_int",
            "decimal",
            "floating",
            "boolean",
            "nullable_boolean",
            "date",
            "datetime",
            "time",
            "duration",
            "json",
        ),
    )()
    assert export_rows(resource, force_native_type=True) == [
        [
            1,
            Decimal("2.5000"),
            0.25,
            True,
            None,
            date(2021, 1, 1),
            datetime(2021, 1, 1, 12, 0),
            time(1, 2, 3),
            timedelta(hours=3),
            '[1, "two"]',
        ]
    ]


def test_magazine_exports_publisher_id_by_default():
    pub = Publisher.objects.create(name="Pub", country="FR")
    with_pub = Magazine.objects.create(title="Monthly", publisher=pub, issue=3)
    without = Magazine.objects.create(title="Zine")
    dataset = model_resource(Magazine)().export(Magazine.objects.order_by("pk"))
    assert dataset.headers == ["id", "title", "publisher", "issue"]
    assert rows(dataset) == [
        [str(with_pub.pk), "Monthly", pub.pk, "3"],
        [str(without.pk), "Zine", "", "1"],
    ]


def test_magazine_exports_publisher_natural_key():
    pub = Publisher.objects.create(name="Pub")
    with_pub = Magazine.objects.create(title="Monthly", publisher=pub)
    without = Magazine.objects.create(title="Zine")
    resource = model_resource(Magazine, use_natural_foreign_keys=True)()
    assert export_rows(resource, Magazine.objects.order_by("pk")) == [
        [str(with_pub.pk), "Monthly", '["Pub"]', "1"],
        [str(without.pk), "Zine", "", "1"],
    ]


def test_publisher_export():
    pub = Publisher.objects.create(name="Pub", country="FR")
    assert export_rows(model_resource(Publisher)()) == [[str(pub.pk), "Pub", "FR"]]


def test_multi_table_child_exports_parent_columns():
    restaurant = Restaurant.objects.create(name="Pizz", address="Main St", serves_pizza=True)
    Place.objects.create(name="Park")
    dataset = model_resource(Restaurant)().export()
    assert dataset.headers == ["place_ptr", "id", "name", "address", "serves_pizza", "rating"]
    assert rows(dataset) == [[restaurant.pk, str(restaurant.pk), "Pizz", "Main St", "1", ""]]


def test_multi_table_parent_exports_reverse_one_to_one_path():
    restaurant = Restaurant.objects.create(name="Pizz", rating=4)
    park = Place.objects.create(name="Park")
    resource = model_resource(Place, fields=("id", "name", "restaurant__rating"))()
    assert export_rows(resource, Place.objects.order_by("pk")) == [
        [str(restaurant.pk), "Pizz", "4"],
        [str(park.pk), "Park", ""],
    ]


def test_uuid_models_export_uuid_strings():
    ann = Author.objects.create(name="Ann")
    category = UUIDCategory.objects.create(catid=uuid.UUID(int=5), name="u")
    book = UUIDBook.objects.create(id=uuid.UUID(int=7), name="ub", author=ann)
    book.categories.set([category])

    for native in (False, True):
        dataset = model_resource(UUIDBook)().export(force_native_type=native)
        assert dataset.headers == ["id", "name", "author", "categories"]
        assert rows(dataset) == [
            [
                "00000000-0000-0000-0000-000000000007",
                "ub",
                ann.pk,
                "00000000-0000-0000-0000-000000000005",
            ]
        ]
    assert export_rows(model_resource(UUIDCategory)()) == [
        ["00000000-0000-0000-0000-000000000005", "u"]
    ]


def test_profile_exports_one_to_one_id_and_path():
    user = User.objects.create(username="bob")
    profile = Profile.objects.create(user=user, is_private=False)
    resource = model_resource(Profile, fields=("id", "user", "user__username", "is_private"))()
    assert export_rows(resource) == [[str(profile.pk), user.pk, "bob", "0"]]


def test_package_exports_repository_by_name():
    repository = Repository.objects.create(name="base", description="d")
    package = Package.objects.create(
        repository=repository,
        name="bash",
        version="5.2",
        release="1",
        arch="x86_64",
        pkg_id="abc",
        size_package=1024,
    )
    resource = model_resource(
        Package,
        {
            "repository": fields.Field(
                attribute="repository", widget=widgets.ForeignKeyWidget(Repository, "name")
            )
        },
    )()
    dataset = resource.export()
    assert dataset.headers[:3] == ["id", "repository", "name"]
    assert rows(dataset) == [
        [
            str(package.pk),
            "base",
            "bash",
            "0",
            "5.2",
            "1",
            "x86_64",
            "abc",
            "sha256",
            "",
            "",
            "",
            "1024",
            "0",
        ]
    ]
    assert export_rows(model_resource(Repository)()) == [[str(repository.pk), "base", "d"]]


def test_plain_resource_exports_dicts():
    class Rows(resources.Resource):
        a = fields.Field(attribute="a", widget=widgets.IntegerWidget())
        b = fields.Field(attribute="b__c", column_name="B")

    dataset = Rows().export([{"a": 1, "b": {"c": "x"}}, {"a": None, "b": None}])
    assert dataset.headers == ["a", "B"]
    assert rows(dataset) == [["1", "x"], ["", ""]]


# -- selection, dehydration ---------------------------------------------------------------------


class AuthorWithExtras(resources.ModelResource):
    loud = fields.Field(column_name="Loud")
    tagged = fields.Field(attribute="name", dehydrate_method="tag")
    initial = fields.Field(dehydrate_method=lambda author: author.name[0])

    class Meta:
        model = Author
        fields = ("id", "name", "loud", "tagged", "initial")

    def dehydrate_loud(self, author):
        return author.name.upper()

    def tag(self, author):
        return f"<{author.name}>"


def test_dehydrate_methods_by_convention_name_and_callable():
    ann = Author.objects.create(name="ann")
    dataset = AuthorWithExtras().export()
    assert dataset.headers == ["id", "name", "Loud", "tagged", "initial"]
    assert rows(dataset) == [[str(ann.pk), "ann", "ANN", "<ann>", "a"]]


def test_dehydrate_method_result_is_not_rendered_by_the_widget():
    class Counted(resources.ModelResource):
        count = fields.Field(widget=widgets.IntegerWidget())

        class Meta:
            model = Author
            fields = ("count",)

        def dehydrate_count(self, author):
            return 42

    Author.objects.create(name="x")
    assert export_rows(Counted()) == [[42]]


def test_export_fields_selects_columns_in_export_order():
    ann = Author.objects.create(name="ann")
    resource = AuthorWithExtras()
    assert rows(resource.export(export_fields=["initial", "id"])) == [[str(ann.pk), "a"]]
    assert resource.export(export_fields=["initial", "id"]).headers == ["id", "initial"]


def test_export_fields_are_matched_against_declared_names():
    Author.objects.create(name="ann")
    dataset = AuthorWithExtras().export(export_fields=["loud"])
    assert dataset.headers == ["Loud"]
    assert rows(dataset) == [["ANN"]]


def test_empty_export_fields_means_all_fields():
    Author.objects.create(name="ann")
    assert AuthorWithExtras().export(export_fields=[]).headers == [
        "id",
        "name",
        "Loud",
        "tagged",
        "initial",
    ]


def test_export_of_an_empty_queryset_has_headers_only():
    dataset = AuthorWithExtras().export(Author.objects.none())
    assert len(dataset) == 0
    assert dataset.headers == ["id", "name", "Loud", "tagged", "initial"]


def test_export_without_queryset_uses_get_queryset():
    Author.objects.create(name="kept")
    Author.objects.create(name="dropped")

    class OnlyKept(resources.ModelResource):
        class Meta:
            model = Author
            fields = ("name",)

        def get_queryset(self):
            return Author.objects.filter(name="kept")

    assert export_rows(OnlyKept()) == [["kept"]]


def test_export_of_a_list_of_objects():
    ann = Author.objects.create(name="ann")
    unsaved = Author(name="unsaved")
    resource = model_resource(Author, fields=("id", "name"))()
    assert export_rows(resource, [ann, unsaved]) == [[str(ann.pk), "ann"], ["", "unsaved"]]


def test_values_queryset_exports_by_key(library):
    resource = model_resource(Book, fields=("id", "name", "author"))()
    queryset = Book.objects.order_by("pk").values("id", "name", "author_id")
    assert export_rows(resource, queryset) == [
        [str(library["full"].pk), "Full", library["ann"].pk],
        [str(library["bare"].pk), "Bare", ""],
    ]


@pytest.mark.parametrize(
    "narrow", [lambda qs: qs.only("id"), lambda qs: qs.defer("name", "author")]
)
def test_deferred_fields_are_loaded_when_exported(library, narrow):
    resource = model_resource(Book, fields=("id", "name", "author__name"))()
    queryset = narrow(Book.objects.order_by("pk"))
    assert export_rows(resource, queryset) == [
        [str(library["full"].pk), "Full", "Ann"],
        [str(library["bare"].pk), "Bare", ""],
    ]


def test_union_queryset_exports(library):
    resource = model_resource(Book, fields=("name", "author__name"))()
    queryset = Book.objects.filter(name="Full").union(Book.objects.filter(name="Bare"))
    assert sorted(export_rows(resource, queryset)) == [["Bare", ""], ["Full", "Ann"]]


# -- hooks --------------------------------------------------------------------------------------


HOOK_ORDER = ["before_export", "filter_export", "after_export"]


class RecordingResource(resources.ModelResource):
    """Records the hook calls of an export, in order, with their arguments."""

    class Meta:
        model = Author
        fields = ("id", "name")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = []

    def before_export(self, queryset, **kwargs):
        self.calls.append(("before_export", queryset, kwargs))

    def filter_export(self, queryset, **kwargs):
        self.calls.append(("filter_export", queryset, kwargs))
        return queryset.filter(name__startswith="a")

    def after_export(self, queryset, dataset, **kwargs):
        self.calls.append(("after_export", queryset, dataset, kwargs))


def test_hooks_are_called_in_order_with_the_export_arguments():
    ann = Author.objects.create(name="ann")
    Author.objects.create(name="bob")
    resource = RecordingResource()

    dataset = resource.export(export_fields=["name"], user="me")

    assert [call[0] for call in resource.calls] == [
        "before_export",
        "filter_export",
        "after_export",
    ]
    kwargs = {"export_fields": ["name"], "user": "me"}
    before, filtered, after = resource.calls
    assert before == ("before_export", None, kwargs)
    assert isinstance(filtered[1], QuerySet) and filtered[1].model is Author
    assert filtered[2] == kwargs
    assert after[2] is dataset
    assert after[3] == kwargs
    assert list(after[1]) == [ann]  # the queryset filter_export returned
    assert rows(dataset) == [["ann"]]


def test_before_export_receives_the_given_queryset():
    queryset = Author.objects.filter(name="x")
    resource = RecordingResource()
    resource.export(queryset)
    assert resource.calls[0][1] is queryset
    assert resource.calls[1][1] is queryset


def test_overridden_export_field_is_called_for_every_cell():
    ann = Author.objects.create(name="ann")
    seen = []

    class Custom(resources.ModelResource):
        class Meta:
            model = Author
            fields = ("id", "name")

        def export_field(self, field, instance, **kwargs):
            seen.append((field.column_name, instance, kwargs))
            return f"{field.column_name}!"

    assert export_rows(Custom(), flag=1) == [["id!", "name!"]]
    assert seen == [("id", ann, {"flag": 1}), ("name", ann, {"flag": 1})]


def test_overridden_export_field_may_call_super():
    Author.objects.create(name="ann")

    class Custom(resources.ModelResource):
        class Meta:
            model = Author
            fields = ("name",)

        def export_field(self, field, instance, **kwargs):
            return super().export_field(field, instance, **kwargs) + "?"

    assert export_rows(Custom()) == [["ann?"]]


def test_overridden_export_resource_builds_each_row():
    Author.objects.create(name="ann")
    seen = []

    class Custom(resources.ModelResource):
        class Meta:
            model = Author
            fields = ("id", "name")

        def export_resource(self, instance, selected_fields=None, **kwargs):
            seen.append((selected_fields, kwargs))
            return [instance.name, len(instance.name)]

    dataset = Custom().export(export_fields=["name", "id"], flag=2)
    assert rows(dataset) == [["ann", 3]]
    assert seen == [(["name", "id"], {"export_fields": ["name", "id"], "flag": 2})]


def test_overridden_get_export_headers_names_the_columns():
    Author.objects.create(name="ann")

    class Custom(resources.ModelResource):
        class Meta:
            model = Author
            fields = ("id", "name")

        def get_export_headers(self, selected_fields=None):
            return [f"col {name}" for name in super().get_export_headers(selected_fields)]

    assert Custom().export().headers == ["col id", "col name"]
    assert Custom().export(export_fields=["name"]).headers == ["col name"]


def test_overridden_get_export_fields_chooses_the_columns():
    Author.objects.create(name="ann")

    class Custom(resources.ModelResource):
        class Meta:
            model = Author

        def get_export_fields(self, selected_fields=None):
            return [self.fields["name"]]

    dataset = Custom().export()
    assert dataset.headers == ["name"]
    assert rows(dataset) == [["ann"]]


def test_field_added_in_before_export_is_exported():
    Author.objects.create(name="ann")

    class Dynamic(resources.ModelResource):
        class Meta:
            model = Author
            fields = ("name",)

        def before_export(self, queryset, **kwargs):
            self.fields["copy"] = fields.Field(attribute="name", column_name="Copy")

    dataset = Dynamic().export()
    assert dataset.headers == ["name", "Copy"]
    assert rows(dataset) == [["ann", "ann"]]
    assert list(Dynamic().export_iter()) == [["ann", "ann"]]
    # The class itself is untouched: only that instance grew a field.
    assert list(Dynamic.fields) == ["name"]


def test_fields_configured_in_init_are_used():
    Author.objects.create(name="ann")

    class Labelled(resources.ModelResource):
        class Meta:
            model = Author
            fields = ("name",)

        def __init__(self, label="name", **kwargs):
            super().__init__(**kwargs)
            self.fields["name"].column_name = label

    assert Labelled(label="Who").export().headers == ["Who"]
    assert Labelled().export().headers == ["name"]


def test_render_keyword_arguments_reach_the_widgets():
    received = []

    class Spy(widgets.Widget):
        def render(self, value, obj=None, **kwargs):
            received.append(kwargs)
            return value

    class Custom(resources.ModelResource):
        name = fields.Field(attribute="name", widget=Spy())

        class Meta:
            model = Author
            fields = ("name",)

    Author.objects.create(name="ann")
    Custom().export(force_native_type=True)
    Custom().export()
    assert received == [{"force_native_type": True}, {}]


# -- chunked reading ----------------------------------------------------------------------------


@pytest.fixture
def iterator_spy(monkeypatch):
    """Record the ``chunk_size`` of every ``QuerySet.iterator()`` call."""
    sizes = []
    original = QuerySet.iterator

    def iterator(self, chunk_size=None):
        sizes.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", iterator)
    return sizes


def test_default_chunk_size_is_100(iterator_spy):
    resource = model_resource(Author)()
    assert resource.get_chunk_size() == 100
    resource.export()
    assert iterator_spy == [100]


def test_chunk_size_setting(iterator_spy):
    with override_settings(IMPORT_EXPORT_CHUNK_SIZE=7):
        resource = model_resource(Author)()
        assert resource.get_chunk_size() == 7
        resource.export()
    assert iterator_spy == [7]


def test_meta_chunk_size_wins_over_the_setting(iterator_spy):
    with override_settings(IMPORT_EXPORT_CHUNK_SIZE=7):
        model_resource(Author, chunk_size=3)().export()
    assert iterator_spy == [3]


def test_iter_queryset_yields_every_object_across_chunks():
    authors = [Author.objects.create(name=f"a{i}") for i in range(7)]
    resource = model_resource(Author, chunk_size=2)()
    assert list(resource.iter_queryset(Author.objects.order_by("pk"))) == authors


def test_iter_queryset_yields_a_list_as_it_is(iterator_spy):
    items = [object(), object()]
    assert list(model_resource(Author)().iter_queryset(items)) == items
    assert iterator_spy == []


def test_prefetches_run_once_per_chunk():
    categories = [Category.objects.create(name=f"c{i}") for i in range(2)]
    for i in range(7):
        Book.objects.create(name=f"b{i}").categories.set(categories)
    resource = model_resource(Book, fields=("name", "categories"), chunk_size=3)()

    with CaptureQueriesContext(connection) as queries:
        exported = export_rows(resource, Book.objects.order_by("pk"))

    assert len(exported) == 7
    assert {row[1] for row in exported} == {f"{categories[0].pk},{categories[1].pk}"}
    assert len(queries) == 1 + 3  # the books, then one prefetch for each chunk of 3


# -- export_iter --------------------------------------------------------------------------------


def iter_rows(resource, queryset=None, **kwargs):
    return list(resource.export_iter(queryset, **kwargs))


@pytest.mark.parametrize(
    "resource_factory, kwargs",
    [
        (lambda: model_resource(Book)(), {}),
        (lambda: model_resource(Book)(), {"force_native_type": True}),
        (
            lambda: model_resource(
                Book,
                fields=("id", "author__name", "categories", "author"),
                widgets={"author": {"field": "name"}},
            )(),
            {},
        ),
        (lambda: AuthorWithExtras(), {"export_fields": ["Loud", "initial"]}),
        (lambda: model_resource(Magazine, use_natural_foreign_keys=True)(), {}),
        (lambda: model_resource(AllTypes)(), {}),
        (lambda: model_resource(Restaurant)(), {}),
    ],
)
def test_export_iter_yields_exactly_the_rows_of_export(library, resource_factory, kwargs):
    Magazine.objects.create(title="M", publisher=Publisher.objects.create(name="P"))
    AllTypes.objects.create(json={"k": 1}, duration=timedelta(seconds=1))
    Restaurant.objects.create(name="R")
    Author.objects.create(name="zed")

    resource = resource_factory()
    queryset = resource._meta.model.objects.order_by("pk")
    expected = resource.export(queryset, **kwargs)
    streamed = iter_rows(resource_factory(), queryset, **kwargs)

    assert streamed == rows(expected)
    assert len(streamed) > 0


def test_export_iter_keeps_the_queryset_order(library):
    resource = model_resource(Book, fields=("name",))()
    assert iter_rows(resource, Book.objects.order_by("name")) == [["Bare"], ["Full"]]
    assert iter_rows(resource, Book.objects.order_by("-name")) == [["Full"], ["Bare"]]


def test_export_iter_runs_nothing_until_the_first_row_is_asked_for():
    Author.objects.create(name="bob")
    resource = RecordingResource()
    with CaptureQueriesContext(connection) as queries:
        iterator = resource.export_iter()
    assert len(queries) == 0
    assert resource.calls == []

    # Created after export_iter() was called, yet exported: the queryset is read lazily.
    late = Author.objects.create(name="added late")
    assert list(iterator) == [[str(late.pk), "added late"]]
    assert [call[0] for call in resource.calls] == [
        "before_export",
        "filter_export",
        "after_export",
    ]


def test_export_iter_calls_after_export_without_dataset():
    Author.objects.create(name="ann")
    resource = RecordingResource()
    iterator = resource.export_iter(flag=1)
    first = next(iterator)
    assert first[1] == "ann"
    assert [call[0] for call in resource.calls] == ["before_export", "filter_export"]
    assert list(iterator) == []
    name, _, dataset, kwargs = resource.calls[-1]
    assert (name, dataset, kwargs) == ("after_export", None, {"flag": 1})


def test_export_iter_accepts_a_list_and_an_empty_list():
    ann = Author.objects.create(name="ann")
    resource = model_resource(Author, fields=("id", "name"))()
    assert iter_rows(resource, [ann]) == [[str(ann.pk), "ann"]]
    assert iter_rows(resource, []) == []


def test_export_iter_yields_fresh_lists():
    for name in ("a", "b", "c"):
        Author.objects.create(name=name)
    resource = model_resource(Author, fields=("name",))()
    produced = iter_rows(resource, Author.objects.order_by("name"))
    assert produced == [["a"], ["b"], ["c"]]
    assert len({id(row) for row in produced}) == 3


# -- query counts -------------------------------------------------------------------------------


def make_books(count):
    """``count`` books, each with its own author and zero to two categories."""
    categories = [Category.objects.get_or_create(name=f"cat{i}")[0] for i in range(2)]
    start = Book.objects.count()
    for i in range(start, start + count):
        book = Book.objects.create(name=f"book{i:02}", author=Author.objects.create(name=f"a{i}"))
        book.categories.set(categories[: i % 3])


def export_query_count(resource, queryset=None, **kwargs):
    """The number of queries an export runs, and its rows."""
    with CaptureQueriesContext(connection) as queries:
        exported = export_rows(resource, queryset, **kwargs)
    return len(queries), exported


def path_resource(**meta):
    return model_resource(Book, fields=("name", "author__name"), **meta)


def shout_name(resource, book):
    return book.name.upper()


def path_and_dehydrated_resource(**meta):
    """A relation path next to a dehydrated column, so rows must be read as model instances."""
    return model_resource(
        Book,
        {"shout": fields.Field(column_name="Shout"), "dehydrate_shout": shout_name},
        fields=("name", "author__name", "shout"),
        **meta,
    )


def widget_by_name_resource(**meta):
    author = fields.Field(attribute="author", widget=widgets.ForeignKeyWidget(Author, "name"))
    return model_resource(Book, {"author": author}, fields=("name", "author"), **meta)


def categories_resource(**meta):
    return model_resource(Book, fields=("name", "categories"), **meta)


def categories_by_name_resource(**meta):
    return model_resource(
        Book, fields=("name", "categories"), widgets={"categories": {"field": "name"}}, **meta
    )


def natural_key_resource(**meta):
    return model_resource(Magazine, use_natural_foreign_keys=True, **meta)


QUERY_SHAPES = {
    "author__name path": (path_resource, 1),
    "author__name path read from instances": (path_and_dehydrated_resource, 1),
    "ForeignKeyWidget by name": (widget_by_name_resource, 1),
    "many-to-many ids": (categories_resource, 2),
    "many-to-many names": (categories_by_name_resource, 2),
}


@pytest.mark.parametrize("shape", QUERY_SHAPES)
def test_export_query_count_does_not_grow_with_rows(shape):
    resource_factory, expected_queries = QUERY_SHAPES[shape]
    make_books(3)
    # Ordered by a unique key: relations are joined (unordered querysets prefetch them).
    few_count, few = export_query_count(resource_factory()(), Book.objects.order_by("pk"))
    make_books(27)
    many_count, many = export_query_count(resource_factory()(), Book.objects.order_by("pk"))

    assert (len(few), len(many)) == (3, 30)
    assert few_count == many_count == expected_queries


def test_natural_key_export_query_count_does_not_grow_with_rows():
    def add_magazines(count):
        for i in range(count):
            publisher = Publisher.objects.create(name=f"p{Publisher.objects.count()}")
            Magazine.objects.create(title=f"m{i}", publisher=publisher)

    add_magazines(3)
    few_count, _ = export_query_count(natural_key_resource()(), Magazine.objects.order_by("pk"))
    add_magazines(27)
    many_count, many = export_query_count(natural_key_resource()(), Magazine.objects.order_by("pk"))
    assert few_count == many_count == 1
    assert len(many) == 30


def test_optimised_export_gives_the_same_rows_as_unoptimised():
    make_books(6)
    factories = (
        path_resource,
        path_and_dehydrated_resource,
        widget_by_name_resource,
        categories_by_name_resource,
    )
    for factory in factories:
        queryset = Book.objects.order_by("pk")
        optimised = export_rows(factory()(), queryset)
        plain = export_rows(factory(optimize_export_queries=False)(), queryset)
        assert unordered_relations(optimised) == unordered_relations(plain)


def unordered_relations(rows):
    """Rows with many-to-many cells ("a,b") sorted: SQL gives related rows in no set order
    unless asked, and a prefetch may return them in another order than a per-row query."""
    return [
        [",".join(sorted(cell.split(","))) if isinstance(cell, str) else cell for cell in row]
        for row in rows
    ]


@pytest.mark.parametrize("shape", QUERY_SHAPES)
def test_opting_out_of_the_optimisation_queries_per_row(shape):
    resource_factory, _ = QUERY_SHAPES[shape]
    make_books(3)
    few_count, _ = export_query_count(resource_factory(optimize_export_queries=False)())
    make_books(3)
    more_count, _ = export_query_count(resource_factory(optimize_export_queries=False)())
    assert more_count == few_count + 3


@pytest.mark.parametrize(
    "resource_factory",
    [path_resource, path_and_dehydrated_resource],
    ids=["values", "instances"],
)
def test_optimisation_keeps_the_callers_ordering_and_filters(resource_factory):
    make_books(5)
    queryset = Book.objects.filter(name__in=["book01", "book03", "book04"]).order_by("-name", "pk")
    count, exported = export_query_count(resource_factory()(), queryset)
    assert [row[:2] for row in exported] == [["book04", "a4"], ["book03", "a3"], ["book01", "a1"]]
    assert count == 1


@pytest.mark.parametrize(
    "resource_factory",
    [path_resource, path_and_dehydrated_resource],
    ids=["values", "instances"],
)
def test_optimisation_keeps_the_callers_select_related(resource_factory):
    make_books(3)
    Profile.objects.create(user=User.objects.create(username="u"))
    queryset = Book.objects.select_related("author").order_by("pk")
    count, exported = export_query_count(resource_factory()(), queryset)
    assert count == 1
    assert [row[1] for row in exported] == ["a0", "a1", "a2"]


def test_optimisation_keeps_the_callers_prefetch_with_its_own_queryset():
    make_books(4)
    reversed_names = Prefetch("categories", queryset=Category.objects.order_by("-name"))
    queryset = Book.objects.prefetch_related(reversed_names).order_by("pk")
    count, exported = export_query_count(categories_by_name_resource()(), queryset)
    assert count == 2
    assert [row[1] for row in exported] == ["", "cat0", "cat1,cat0", ""]


def test_optimisation_adds_to_the_callers_prefetch():
    make_books(3)
    queryset = Book.objects.prefetch_related("categories").order_by("pk")
    resource = model_resource(Book, fields=("name", "author__name", "categories"))()
    count, exported = export_query_count(resource, queryset)
    assert count == 2
    assert [row[1] for row in exported] == ["a0", "a1", "a2"]


def test_optimisation_does_not_apply_to_dehydrated_columns_but_they_still_export():
    make_books(3)

    class Dehydrated(resources.ModelResource):
        class Meta:
            model = Book
            fields = ("name", "author__name")

        def dehydrate_author__name(self, book):
            return book.author.name.upper()

    count, exported = export_query_count(Dehydrated(), Book.objects.order_by("pk"))
    assert [row[1] for row in exported] == ["A0", "A1", "A2"]
    assert count == 1 + 3


@pytest.mark.parametrize(
    "resource_factory",
    [path_resource, path_and_dehydrated_resource],
    ids=["values", "instances"],
)
def test_optimisation_of_a_sliced_queryset(resource_factory):
    make_books(6)
    queryset = Book.objects.order_by("-pk")[:2]
    count, exported = export_query_count(resource_factory()(), queryset)
    assert [row[:2] for row in exported] == [["book05", "a5"], ["book04", "a4"]]
    assert count == 1


def test_optimisation_of_a_reverse_one_to_one_path():
    for i in range(4):
        Restaurant.objects.create(name=f"r{i}", rating=i)
    Place.objects.create(name="park")
    resource = model_resource(Place, fields=("name", "restaurant__rating"))()
    count, exported = export_query_count(resource, Place.objects.order_by("pk"))
    assert exported == [["r0", "0"], ["r1", "1"], ["r2", "2"], ["r3", "3"], ["park", ""]]
    assert count == 1


def test_plain_foreign_key_ids_need_no_join():
    make_books(3)
    resource = model_resource(Book, fields=("name", "author"))()
    count, exported = export_query_count(resource, Book.objects.order_by("pk"))
    assert count == 1
    assert [row[1] for row in exported] == list(
        Book.objects.order_by("pk").values_list("author_id", flat=True)
    )


def test_values_and_deferred_querysets_are_left_alone_and_export():
    make_books(2)
    resource = path_resource()()
    values = Book.objects.order_by("pk").values("name")
    assert export_rows(resource, values) == [["book00", ""], ["book01", ""]]
    deferred = Book.objects.order_by("pk").only("name")
    assert export_rows(resource, deferred) == [["book00", "a0"], ["book01", "a1"]]


def test_optimisation_with_a_bare_select_related_still_joins_nullable_relations():
    resource_class = path_and_dehydrated_resource()
    make_books(3)
    few_count, _ = export_query_count(resource_class(), Book.objects.select_related())
    make_books(3)
    more_count, exported = export_query_count(resource_class(), Book.objects.select_related())
    assert len(exported) == 6
    assert few_count == more_count


def test_export_iter_is_optimised_too():
    make_books(5)
    with CaptureQueriesContext(connection) as queries:
        produced = list(categories_by_name_resource()().export_iter(Book.objects.order_by("pk")))
    assert len(produced) == 5
    assert len(queries) == 2


def test_parent_model_resource_exports_a_child_model_queryset():
    Restaurant.objects.create(name="Pizz", rating=3)
    resource = model_resource(Place, fields=("name", "restaurant__rating"))()
    assert export_rows(resource, Restaurant.objects.all()) == [["Pizz", "3"]]


def test_reverse_foreign_key_manager_column_exports_with_prefetch():
    ann = Author.objects.create(name="ann")
    for name in ("b1", "b2"):
        Book.objects.create(name=name, author=ann)
    Author.objects.create(name="bob")
    books = fields.Field(attribute="book_set", widget=widgets.ManyToManyWidget(Book, field="name"))
    resource = model_resource(Author, {"books": books}, fields=("name", "books"))()

    count, exported = export_query_count(resource, Author.objects.order_by("pk"))
    assert [row[0] for row in exported] == ["ann", "bob"]
    assert sorted(exported[0][1].split(",")) == ["b1", "b2"]
    assert exported[1][1] == ""
    assert count == 2


@pytest.fixture
def every_model(library):
    """Rows in every model of the test project, some full and some mostly empty."""
    AllTypes.objects.create(
        char="c",
        decimal=Decimal("0.1000"),
        floating=2.0,
        nullable_boolean=True,
        datetime=datetime(2021, 6, 1, 23, 30, tzinfo=PLUS_TWO),
        duration=timedelta(microseconds=5),
        json={"nested": {"list": [1, None]}},
    )
    AllTypes.objects.create(json=[], text="only text")
    publisher = Publisher.objects.create(name="Pub")
    Magazine.objects.create(title="M", publisher=publisher)
    Magazine.objects.create(title="N")
    Restaurant.objects.create(name="R", rating=2)
    Place.objects.create(name="P")
    category = UUIDCategory.objects.create(name="u")
    UUIDBook.objects.create(name="ub", author=library["ann"]).categories.set([category])
    UUIDBook.objects.create(name="lonely")
    Profile.objects.create(user=User.objects.create(username="bob"))
    Package.objects.create(
        repository=Repository.objects.create(name="base"),
        name="bash",
        version="1",
        release="1",
        arch="noarch",
        pkg_id="x",
    )


EVERY_MODEL = [
    Author,
    Category,
    Book,
    Profile,
    AllTypes,
    UUIDCategory,
    UUIDBook,
    Publisher,
    Magazine,
    Place,
    Restaurant,
    Repository,
    Package,
]


@pytest.mark.parametrize("native", [False, True], ids=["text", "native"])
@pytest.mark.parametrize("model", EVERY_MODEL, ids=lambda model: model.__name__)
def test_optimised_export_of_every_model_matches_the_plain_reading(every_model, model, native):
    queryset = model.objects.order_by("pk")
    optimised = export_rows(model_resource(model)(), queryset, force_native_type=native)
    plain_resource = model_resource(model, optimize_export_queries=False)()
    plain = export_rows(plain_resource, queryset, force_native_type=native)
    assert optimised == plain
    assert len(optimised) == model.objects.count() > 0


@pytest.mark.parametrize("model", [Book, Magazine, UUIDBook], ids=lambda model: model.__name__)
def test_optimised_export_with_natural_keys_matches_the_plain_reading(every_model, model):
    queryset = model.objects.order_by("pk")
    options = {"use_natural_foreign_keys": True}
    optimised = export_rows(model_resource(model, **options)(), queryset)
    plain_resource = model_resource(model, optimize_export_queries=False, **options)()
    assert optimised == export_rows(plain_resource, queryset)


@pytest.mark.parametrize("native", [False, True], ids=["text", "native"])
@pytest.mark.parametrize(
    "model, paths",
    [
        (Book, ("id", "author__name", "author__birthday", "categories__name", "author")),
        (Place, ("name", "restaurant__rating", "restaurant__serves_pizza")),
        (Restaurant, ("name", "place_ptr__address")),
        (Profile, ("user__username", "user__is_staff", "user__date_joined")),
        (Package, ("name", "repository__name", "repository__description")),
        (UUIDBook, ("name", "author__birthday", "author__id")),
        (Magazine, ("title", "publisher__name", "publisher__country")),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else None,
)
def test_optimised_export_of_relation_paths_matches_the_plain_reading(
    every_model, model, paths, native
):
    queryset = model.objects.order_by("pk")
    optimised_resource = model_resource(model, fields=paths)()
    optimised = export_rows(optimised_resource, queryset, force_native_type=native)
    plain_resource = model_resource(model, fields=paths, optimize_export_queries=False)()
    assert optimised == export_rows(plain_resource, queryset, force_native_type=native)


@pytest.mark.parametrize("native", [False, True], ids=["text", "native"])
def test_optimised_export_matches_the_plain_reading_in_another_time_zone(every_model, native):
    with django_timezone.override("Asia/Kolkata"):
        for model in (Author, Book, AllTypes):
            queryset = model.objects.order_by("pk")
            optimised = export_rows(model_resource(model)(), queryset, force_native_type=native)
            plain_resource = model_resource(model, optimize_export_queries=False)()
            plain = export_rows(plain_resource, queryset, force_native_type=native)
            assert optimised == plain


# -- custom code on fields, widgets and querysets is honoured -----------------------------------


def test_field_subclass_overriding_get_value_is_honoured():
    Author.objects.create(name="ann")

    class Reversed(fields.Field):
        def get_value(self, instance):
            value = super().get_value(instance)
            return value[::-1] if value else value

    resource = model_resource(
        Author, {"name": Reversed(attribute="name", column_name="name")}, fields=("name",)
    )()
    assert export_rows(resource) == [["nna"]]
    assert list(resource.export_iter()) == [["nna"]]


def test_field_subclass_overriding_export_is_honoured():
    Author.objects.create(name="ann")

    class Bracketed(fields.Field):
        def export(self, instance, **kwargs):
            return f"[{super().export(instance, **kwargs)}]"

    resource = model_resource(
        Author, {"name": Bracketed(attribute="name", column_name="name")}, fields=("name",)
    )()
    assert export_rows(resource) == [["[ann]"]]


def test_widget_subclass_overriding_render_is_honoured():
    Author.objects.create(name="ann")

    class Loud(widgets.CharWidget):
        def render(self, value, obj=None, **kwargs):
            return super().render(value, obj, **kwargs).upper()

    resource = model_resource(
        Author, {"name": fields.Field(attribute="name", widget=Loud())}, fields=("id", "name")
    )()
    assert [row[1] for row in export_rows(resource)] == ["ANN"]


def test_widget_replaced_on_the_instance_is_used():
    Author.objects.create(name="ann", birthday=datetime(2000, 1, 2, tzinfo=UTC))
    resource = model_resource(Author, fields=("birthday",))()
    resource.fields["birthday"].widget = widgets.DateTimeWidget(format="%d/%m/%Y")
    assert export_rows(resource) == [["02/01/2000"]]


def test_attribute_naming_a_model_method_is_called():
    Magazine.objects.create(title="M", publisher=Publisher.objects.create(name="Pub"))
    key = fields.Field(attribute="publisher__natural_key", column_name="key")
    resource = model_resource(Magazine, {"key": key}, fields=("title", "key"))()
    assert export_rows(resource) == [["M", "('Pub',)"]]


def test_attribute_naming_a_queryset_annotation_is_exported():
    from django.db.models import Count

    ann = Author.objects.create(name="ann")
    Book.objects.create(name="b1", author=ann)
    Book.objects.create(name="b2", author=ann)
    Author.objects.create(name="bob")
    count = fields.Field(attribute="book_count", widget=widgets.IntegerWidget())
    resource = model_resource(Author, {"book_count": count}, fields=("name", "book_count"))()
    queryset = Author.objects.annotate(book_count=Count("book")).order_by("name")
    assert export_rows(resource, queryset) == [["ann", "2"], ["bob", "0"]]


def test_property_of_the_model_instance_is_exported():
    Restaurant.objects.create(name="R", rating=5)
    # ``pk`` is a property, not a field; ``place_ptr__restaurant`` walks back to the child.
    pk = fields.Field(attribute="pk", widget=widgets.IntegerWidget())
    back = fields.Field(attribute="place_ptr__restaurant__rating")
    resource = model_resource(Restaurant, {"pk": pk, "back": back}, fields=("pk", "back"))()
    restaurant = Restaurant.objects.get()
    assert export_rows(resource) == [[str(restaurant.pk), "5"]]


def test_many_valued_paths_give_one_row_per_object():
    ann = Author.objects.create(name="ann")
    categories = [Category.objects.create(name=f"c{i}") for i in range(3)]
    for name in ("b1", "b2"):
        Book.objects.create(name=name, author=ann).categories.set(categories)
    Author.objects.create(name="bob")

    # As upstream: a path through a many-valued relation reaches a manager, not a value.
    authors = model_resource(Author, fields=("name", "book__name"))()
    assert export_rows(authors, Author.objects.order_by("name")) == [["ann", ""], ["bob", ""]]
    books = model_resource(Book, fields=("name", "categories__name"))()
    assert export_rows(books, Book.objects.order_by("name")) == [["b1", ""], ["b2", ""]]


def test_foreign_key_rendered_by_a_plain_widget_shows_the_related_object(library):
    # The base Widget renders str(value): the related object's __str__, not its id.
    author = fields.Field(attribute="author", column_name="author")
    resource = model_resource(Book, {"author": author}, fields=("name", "author"))()
    assert export_rows(resource, Book.objects.order_by("pk")) == [["Full", "Ann"], ["Bare", ""]]


def test_foreign_key_widget_following_two_relations(library):
    publisher = Publisher.objects.create(name="Pub", country="FR")
    Magazine.objects.create(title="M", publisher=publisher)
    Magazine.objects.create(title="N")
    widget = widgets.ForeignKeyWidget(Publisher, field="country")
    resource = model_resource(
        Magazine,
        {"publisher": fields.Field(attribute="publisher", widget=widget)},
        fields=("title", "publisher"),
    )()
    assert export_rows(resource, Magazine.objects.order_by("pk")) == [["M", "FR"], ["N", ""]]


def test_overridden_iter_queryset_is_used():
    for name in ("a", "b", "c"):
        Author.objects.create(name=name)

    class Backwards(resources.ModelResource):
        class Meta:
            model = Author
            fields = ("name",)

        def iter_queryset(self, queryset):
            yield from reversed(list(queryset))

    assert export_rows(Backwards(), Author.objects.order_by("name")) == [["c"], ["b"], ["a"]]
    assert list(Backwards().export_iter(Author.objects.order_by("name"))) == [["c"], ["b"], ["a"]]
