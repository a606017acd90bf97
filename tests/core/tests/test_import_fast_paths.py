"""The row engine's fast paths for new rows: each gives what the general path gives, and steps
aside where a resource, a field or a widget could make the general path answer differently."""

from decimal import Decimal

import tablib
from django.test import TestCase

from core.models import Author, Book
from import_export import fields, resources, widgets


def _outcome(resource_class, dataset, **kwargs):
    """What an import leaves behind: its totals, row types, messages and the books' values."""
    result = resource_class().import_data(dataset, **kwargs)
    books = list(Book.objects.order_by("pk").values_list("pk", "name", "price", "author__name"))
    outcome = (
        {k: v for k, v in result.totals.items() if v},
        [row.import_type for row in result.rows],
        result.error_messages(),
        [(r.number, r.error_dict) for r in result.invalid_rows],
        books,
    )
    Book.objects.all().delete()
    return outcome


def _per_row(resource_class):
    """The same resource on the per-row engine (every cell through ``import_field()``)."""

    class PerRow(resource_class):
        class Meta(resource_class.Meta):
            batch_import_lookups = False

    return PerRow


class BookResource(resources.ModelResource):
    author = fields.Field(
        attribute="author", column_name="author", widget=widgets.ForeignKeyWidget(Author, "name")
    )

    class Meta:
        model = Book
        fields = ("id", "name", "price", "author")


def _books(*rows):
    dataset = tablib.Dataset(headers=["id", "name", "price", "author"])
    for row in rows:
        dataset.append(row)
    return dataset


class DirectCellPathTest(TestCase):
    def setUp(self):
        Author.objects.create(name="Pratchett")

    def assert_same_as_per_row(self, resource_class, dataset, **kwargs):
        batched = _outcome(resource_class, dataset, **kwargs)
        self.assertEqual(batched, _outcome(_per_row(resource_class), dataset, **kwargs))
        return batched

    def test_plain_fields_are_set_without_import_field_and_give_the_same_result(self):
        calls = []

        class Counting(BookResource):
            def _conversion_failure(self, field, instance, row, kwargs):
                calls.append(field.column_name)
                return super()._conversion_failure(field, instance, row, kwargs)

            class Meta(BookResource.Meta):
                pass

        class Plain(BookResource):
            class Meta(BookResource.Meta):
                pass

        dataset = _books([1, "Mort", "1.50", "Pratchett"], [2, "Eric", "", "Pratchett"])
        outcome = self.assert_same_as_per_row(Plain, dataset)
        self.assertEqual(outcome[0], {"new": 2})
        self.assertEqual(outcome[4][0], (1, "Mort", Decimal("1.50"), "Pratchett"))
        # Control: a resource overriding a step of the general path keeps it for every cell.
        _outcome(Counting, dataset)
        self.assertEqual(len(calls), 2 * 4)

    def test_resource_overriding_import_field_is_called_for_every_cell(self):
        seen = []

        class OwnImportField(BookResource):
            def import_field(self, field, instance, row, is_m2m=False, **kwargs):
                seen.append(field.column_name)
                super().import_field(field, instance, row, is_m2m, **kwargs)

            class Meta(BookResource.Meta):
                pass

        self.assert_same_as_per_row(OwnImportField, _books([1, "Mort", "1", "Pratchett"]))
        self.assertEqual(seen, ["id", "name", "price", "author"] * 2)

    def test_field_subclass_with_its_own_clean_is_used(self):
        class Shouting(fields.Field):
            def clean(self, row, **kwargs):
                return super().clean(row, **kwargs).upper()

        class ShoutingNames(BookResource):
            name = Shouting(attribute="name", column_name="name")

            class Meta(BookResource.Meta):
                pass

        outcome = self.assert_same_as_per_row(ShoutingNames, _books([1, "Mort", "1", "Pratchett"]))
        self.assertEqual(outcome[4][0][1], "MORT")

    def test_field_made_read_only_by_a_hook_during_the_import_is_not_written(self):
        class Freezing(BookResource):
            def before_import_row(self, row, **kwargs):
                self.fields["name"].readonly = row["id"] > 1

            class Meta(BookResource.Meta):
                pass

        outcome = self.assert_same_as_per_row(
            Freezing, _books([1, "Mort", "1", "Pratchett"], [2, "Eric", "2", "Pratchett"])
        )
        self.assertEqual([book[1] for book in outcome[4]], ["Mort", ""])

    def test_defaults_null_values_and_missing_columns_as_the_general_path(self):
        class Defaults(BookResource):
            name = fields.Field(attribute="name", column_name="name", default="untitled")
            price = fields.Field(
                attribute="price",
                column_name="price",
                widget=widgets.DecimalWidget(),
                saves_null_values=False,
            )

            class Meta(BookResource.Meta):
                pass

        dataset = _books([1, "", "", "Pratchett"], [2, "Eric", "", ""])
        outcome = self.assert_same_as_per_row(Defaults, dataset)
        self.assertEqual([book[1] for book in outcome[4]], ["untitled", "Eric"])
        without_author = tablib.Dataset([3, "Mort", "2"], headers=["id", "name", "price"])
        self.assert_same_as_per_row(Defaults, without_author)

    def test_bad_cells_report_the_same_errors(self):
        class PickyTitles(widgets.CharWidget):
            def clean(self, value, row=None, **kwargs):
                if value == "Bad":
                    raise ValueError("no such title")
                return super().clean(value, row, **kwargs)

        class Strict(BookResource):
            name = fields.Field(attribute="name", column_name="name", widget=PickyTitles())

            class Meta(BookResource.Meta):
                pass

        dataset = _books(
            [1, "Mort", "1.5x", "Pratchett"],  # a row error (InvalidOperation), naming the cell
            [2, "Eric", "2", "Nobody"],  # a missing author: a row error from the widget
            [3, "Bad", "3", "Pratchett"],  # a validation error (ValueError)
            ["x", "Guards", "4", "Pratchett"],  # a bad id
            [5, "Bad", "[1]", "Pratchett"],  # two bad cells in one row
        )
        outcome = self.assert_same_as_per_row(Strict, dataset)
        self.assertTrue(any("1.5x" in message for message in outcome[2]), outcome[2])
        self.assertTrue(any("Nobody" in message for message in outcome[2]), outcome[2])
        self.assertEqual(outcome[3], [(3, {"name": ["no such title"]})])

    def test_keyword_arguments_named_like_the_calls_parameters_take_the_calls(self):
        class Plain(BookResource):
            class Meta(BookResource.Meta):
                pass

        dataset = _books([1, "Mort", "1", "Pratchett"])
        self.assert_same_as_per_row(Plain, dataset, is_m2m=False)
        self.assert_same_as_per_row(Plain, dataset, instance="not an instance")

    def test_field_save_patched_on_the_class_is_called(self):
        # Upstream's own tests patch Field.save on the class to make every row fail.
        from unittest import mock

        class Plain(BookResource):
            class Meta(BookResource.Meta):
                pass

        with mock.patch("import_export.resources.Field.save", side_effect=Exception("fail!")):
            result = Plain().import_data(_books([1, "Mort", "1", "Pratchett"]))
        self.assertEqual(result.totals["error"], 1)
        self.assertIn("fail!", result.error_messages()[0])
