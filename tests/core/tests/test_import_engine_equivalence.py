"""Property: the batched engine and the per-row engine (``Meta.batch_import_lookups = False``)
leave the same database and report the same ``Result`` for any mix of rows.

Generated files mix new, updated, unchanged, skipped, deleted and erroneous rows (unknown and
ambiguous foreign keys, unconvertible and too long values, bad ids), duplicate keys within and
across batches, foreign-key and many-to-many columns; each is imported with and without
``use_bulk``, as a dry run or not, with and without transactions.
"""

import pytest
import tablib
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import Author, Book, Category
from import_export import fields, resources, widgets

IDS = [1, 2, 3, 4, 101, 102, 103, "x"]
NAMES = ["a", "b", "book 1", "x" * 101]
AUTHORS = ["", "alice", "bob", "nobody", "twin"]
CATEGORIES = ["", "red", "red,green", "blue,missing"]
PRICES = ["", "1.50", "2", "abc"]

row_strategy = st.tuples(
    st.sampled_from(IDS),
    st.sampled_from(NAMES),
    st.sampled_from(AUTHORS),
    st.sampled_from(CATEGORIES),
    st.sampled_from(PRICES),
    st.sampled_from(["", "", "1"]),
)


def _resource_classes(with_m2m: bool, skip_unchanged: bool, use_bulk: bool):
    class Batched(resources.ModelResource):
        author = fields.Field(
            attribute="author",
            column_name="author",
            widget=widgets.ForeignKeyWidget(Author, "name"),
        )
        if with_m2m:
            categories = fields.Field(
                attribute="categories",
                column_name="categories",
                widget=widgets.ManyToManyWidget(Category, field="name"),
            )

        class Meta:
            model = Book
            fields = ("id", "name", "author", "price") + (("categories",) if with_m2m else ())
            batch_size = 3

        def for_delete(self, row, instance):
            return row.get("delete") == "1"

    Batched._meta.skip_unchanged = skip_unchanged
    Batched._meta.use_bulk = use_bulk

    class PerRow(Batched):
        class Meta(Batched.Meta):
            batch_import_lookups = False

    PerRow._meta.skip_unchanged = skip_unchanged
    PerRow._meta.use_bulk = use_bulk
    return Batched, PerRow


def _seed():
    Book.categories.through.objects.all().delete()
    Book.objects.all().delete()
    Author.objects.all().delete()
    Category.objects.all().delete()
    alice = Author.objects.create(pk=1, name="alice")
    Author.objects.create(pk=2, name="bob")
    Author.objects.create(pk=3, name="twin")
    Author.objects.create(pk=4, name="twin")
    red = Category.objects.create(pk=1, name="red")
    Category.objects.create(pk=2, name="green")
    Category.objects.create(pk=3, name="blue")
    for pk in (1, 2, 3):
        book = Book.objects.create(pk=pk, name=f"book {pk}", author=alice, price="1.50")
        book.categories.add(red)


def _state():
    books = [
        (b.pk, b.name, b.author_id, str(b.price), sorted(b.categories.values_list("pk", flat=True)))
        for b in Book.objects.order_by("pk")
    ]
    return books, Author.objects.count(), Category.objects.count()


def _values(instance):
    if instance is None:
        return None
    return [getattr(instance, field.attname) for field in Book._meta.concrete_fields]


def _summary(result):
    return {
        "totals": dict(result.totals),
        "total_rows": result.total_rows,
        "rows": [
            (r.number, r.import_type, r.object_id, r.object_repr, r.diff, _values(r.original))
            for r in result.rows
        ],
        "errors": [
            (number, [(type(e.error).__name__, str(e.error)) for e in errors])
            for number, errors in result.row_errors()
        ],
        "invalid": [(row.number, row.error_dict, row.values) for row in result.invalid_rows],
        "base_errors": [(type(e.error).__name__, str(e.error)) for e in result.base_errors],
    }


def _run(resource_class, dataset, **kwargs):
    _seed()
    result = resource_class().import_data(dataset, **kwargs)
    return _summary(result), _state()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_m2m", [False, True])
@pytest.mark.parametrize("use_bulk", [False, True])
@pytest.mark.parametrize("dry_run,use_transactions", [(False, True), (True, True), (False, False)])
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(row_strategy, min_size=1, max_size=8), skip_unchanged=st.booleans())
def test_batched_and_per_row_engines_agree(
    rows, skip_unchanged, with_m2m, use_bulk, dry_run, use_transactions
):
    if connection.vendor != "sqlite" and not use_transactions:
        pytest.skip("a failed statement outside a transaction is backend-specific")
    batched, per_row = _resource_classes(with_m2m, skip_unchanged, use_bulk)
    dataset = tablib.Dataset(headers=["id", "name", "author", "categories", "price", "delete"])
    for row in rows:
        dataset.append(list(row))
    kwargs = {"dry_run": dry_run, "use_transactions": use_transactions}
    assert _run(batched, dataset, **kwargs) == _run(per_row, dataset, **kwargs)
