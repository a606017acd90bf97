"""Bulk mode's updates: one prepared statement per batch, writing what bulk_update() writes."""

import copy
import uuid
from decimal import Decimal

from django.db import connection, models, transaction
from django.db.models import F
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.models import Author, Book, PulpContent, PulpPackage
from import_export import bulk_writes
from import_export.bulk_writes import fast_bulk_create, fast_bulk_update

FIELDS = ["name", "author", "price", "published"]


def _state():
    return list(Book.objects.order_by("pk").values_list("pk", "name", "author_id", "price"))


class FastBulkUpdateTest(TestCase):
    def setUp(self):
        self.author = Author.objects.create(name="a")
        self.books = [Book.objects.create(name=f"b{i}", price=Decimal("1.00")) for i in range(5)]

    def _changed(self):
        books = list(Book.objects.order_by("pk"))
        for i, book in enumerate(books):
            book.name = f"new {i}"
            book.author = self.author if i % 2 else None
            book.price = None if i == 3 else Decimal(i) / 4
        # A duplicate of the first object, changed differently: bulk_update keeps the first.
        duplicate = Book.objects.get(pk=books[0].pk)
        duplicate.name = "duplicate"
        return [*books, duplicate]

    def test_writes_what_bulk_update_writes(self):
        changed = self._changed()
        with transaction.atomic():
            Book.objects.bulk_update(copy.deepcopy(changed), FIELDS, batch_size=2)
            expected = _state()
            transaction.set_rollback(True)
        with CaptureQueriesContext(connection) as queries:
            self.assertTrue(fast_bulk_update(Book, changed, FIELDS, batch_size=2))
        self.assertEqual(_state(), expected)
        self.assertEqual(expected[0][1], "duplicate")  # the later batch wins, as in Django
        updates = [q["sql"] for q in queries if "UPDATE" in q["sql"]]
        self.assertEqual(len(updates), 3)  # 6 objects in batches of 2

    def test_a_key_repeated_within_a_batch_keeps_the_first_object(self):
        changed = self._changed()
        with transaction.atomic():
            Book.objects.bulk_update(copy.deepcopy(changed), FIELDS)
            expected = _state()
            transaction.set_rollback(True)
        self.assertTrue(fast_bulk_update(Book, changed, FIELDS, None))
        self.assertEqual(_state(), expected)
        self.assertEqual(expected[0][1], "new 0")

    def test_declines_what_it_cannot_write_the_same_way(self):
        changed = self._changed()
        changed[1].name = F("name")
        self.assertFalse(fast_bulk_update(Book, changed, FIELDS, None))
        self.assertFalse(fast_bulk_update(Book, [Book(name="unsaved")], FIELDS, None))
        package = PulpPackage.objects.create(name="p", version="1")
        package.pulp_labels = {"k": "v"}
        self.assertFalse(fast_bulk_update(PulpPackage, [package], ["pulp_labels"], None))
        self.assertEqual(_state()[0][1], "b0")  # nothing was written

    def test_json_and_uuid_values_round_trip(self):
        content = PulpContent.objects.create()
        content.pulp_labels = {"colour": "red", "n": [1, 2]}
        content.upstream_id = uuid.uuid4()
        self.assertTrue(
            fast_bulk_update(PulpContent, [content], ["pulp_labels", "upstream_id"], None)
        )
        stored = PulpContent.objects.get(pk=content.pk)
        self.assertEqual(
            (stored.pulp_labels, stored.upstream_id), (content.pulp_labels, content.upstream_id)
        )


class FastBulkCreateTest(TestCase):
    def _books(self):
        author = Author.objects.get_or_create(pk=7, name="a")[0]
        return [
            Book(pk=100 + i, name=f"b{i}", author=author if i % 2 else None, price=Decimal(i))
            for i in range(5)
        ]

    def test_inserts_what_bulk_create_inserts(self):
        with transaction.atomic():
            Book.objects.bulk_create(self._books(), batch_size=2)
            expected = _state()
            transaction.set_rollback(True)
        books = self._books()
        with CaptureQueriesContext(connection) as queries:
            self.assertTrue(fast_bulk_create(Book, books, batch_size=2))
        self.assertEqual(_state(), expected)
        self.assertEqual(len([q for q in queries if "INSERT" in q["sql"]]), 3)
        self.assertEqual({(b._state.adding, b._state.db) for b in books}, {(False, "default")})

    def test_declines_objects_without_a_key_and_inherited_models(self):
        self.assertFalse(fast_bulk_create(Book, [Book(name="no key")], None))
        package = PulpPackage(name="p", version="1")
        self.assertFalse(fast_bulk_create(PulpPackage, [package], None))
        self.assertFalse(Book.objects.exists())

    def test_a_duplicate_key_fails_the_batch_as_bulk_create_does(self):
        from django.db import IntegrityError

        books = self._books()
        books[1].pk = books[0].pk
        with self.assertRaises(IntegrityError), transaction.atomic():
            fast_bulk_create(Book, books, None)
        self.assertFalse(Book.objects.exists())


# -- values written without preparation -----------------------------------------------------------


class _ShoutingCharField(models.CharField):
    def get_prep_value(self, value):
        return super().get_prep_value(value).upper()


class _AutoStamp(models.CharField):
    def pre_save(self, model_instance, add):
        return "stamped"


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    field=st.sampled_from(
        [
            models.CharField(max_length=10),
            models.TextField(),
            models.EmailField(),
            models.IntegerField(),
            models.BigIntegerField(),
            models.PositiveSmallIntegerField(),
            models.DecimalField(max_digits=5, decimal_places=2),
            models.BooleanField(),
            _ShoutingCharField(max_length=10),
        ]
    ),
    value=st.one_of(
        st.text(max_size=5),
        st.integers(min_value=-(2**62), max_value=2**62),
        st.booleans(),
        st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=999),
        st.none(),
    ),
)
def test_a_value_left_unprepared_is_what_its_field_would_prepare(field, value):
    unprepared = bulk_writes._unprepared_type(field, connection)
    if type(value) is not unprepared:
        return
    expected = field.get_db_prep_save(value, connection)
    assert expected == value and type(expected) is type(value)


def test_fields_that_prepare_or_compute_their_values_are_not_skipped():
    assert bulk_writes._unprepared_type(models.CharField(), connection) is str
    assert bulk_writes._unprepared_type(_ShoutingCharField(), connection) is bulk_writes._NoType
    assert bulk_writes._unprepared_type(models.DateField(), connection) is bulk_writes._NoType
    patched = models.TextField()
    patched.get_prep_value = lambda value: value.upper()
    assert bulk_writes._unprepared_type(patched, connection) is bulk_writes._NoType
    # A backend adapting integers (PostgreSQL's psycopg types) has every integer prepared.
    integers = bulk_writes._unprepared_type(models.IntegerField(), connection)
    adapts = type(connection.ops).adapt_integerfield_value is not (
        bulk_writes.BaseDatabaseOperations.adapt_integerfield_value
    )
    assert integers is (bulk_writes._NoType if adapts else int)
    assert bulk_writes._plain_attname(Book._meta.get_field("name")) == "name"
    assert bulk_writes._plain_attname(_AutoStamp(name="x")) is None
    assert bulk_writes._plain_attname(models.DateTimeField(auto_now=True)) is None


def test_a_preparing_method_patched_on_djangos_class_is_called():
    from unittest import mock

    with mock.patch.object(models.CharField, "get_prep_value", lambda self, value: value):
        assert bulk_writes._unprepared_type(models.CharField(), connection) is bulk_writes._NoType
    assert bulk_writes._unprepared_type(models.CharField(), connection) is str
