"""The result objects an import returns: counts, error bookkeeping and readable messages."""

import logging

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from import_export.results import (
    FAILED_CELL_ATTRIBUTE,
    Error,
    ErrorRow,
    InvalidRow,
    Result,
    RowResult,
)


def _row_result(import_type, number=None, errors=()):
    row_result = RowResult()
    row_result.import_type = import_type
    row_result.number = number
    row_result.errors = list(errors)
    return row_result


class TestRowResult:
    def test_each_predicate_is_true_only_for_its_own_import_type(self):
        predicates = {
            RowResult.IMPORT_TYPE_NEW: "is_new",
            RowResult.IMPORT_TYPE_UPDATE: "is_update",
            RowResult.IMPORT_TYPE_DELETE: "is_delete",
            RowResult.IMPORT_TYPE_SKIP: "is_skip",
            RowResult.IMPORT_TYPE_ERROR: "is_error",
            RowResult.IMPORT_TYPE_INVALID: "is_invalid",
        }
        for import_type in predicates:
            row_result = _row_result(import_type)
            truths = {name for name in predicates.values() if getattr(row_result, name)()}
            assert truths == {predicates[import_type]}

    def test_only_error_and_invalid_rows_are_not_valid(self):
        valid = {t for t in ("new", "update", "delete", "skip", "error", "invalid")}
        assert {t for t in valid if _row_result(t).is_valid()} == {
            "new",
            "update",
            "delete",
            "skip",
        }

    def test_add_instance_info_keeps_pk_and_text(self):
        class Thing:
            pk = 42

            def __str__(self):
                return "the answer"

        row_result = RowResult()
        row_result.add_instance_info(Thing())
        assert (row_result.object_id, row_result.object_repr) == (42, "the answer")

    def test_a_failing_str_does_not_make_the_row_fail(self, caplog):
        class Broken:
            pk = 7

            def __str__(self):
                raise RuntimeError("no text")

        row_result = RowResult()
        with caplog.at_level(logging.DEBUG, logger="import_export.results"):
            row_result.add_instance_info(Broken())
        assert row_result.object_id == 7
        assert row_result.object_repr is None
        # upstream's wording, which code written for it may match
        assert caplog.messages == ["call to force_str() on instance failed: no text"]

    def test_add_instance_info_ignores_none(self):
        row_result = RowResult()
        row_result.add_instance_info(None)
        assert row_result.object_id is None


class TestError:
    def test_traceback_contains_the_raising_frame(self):
        def explode():
            raise KeyError("missing thing")

        try:
            explode()
        except KeyError as exc:
            error = Error(exc, row={"a": 1}, number=3)
        assert "explode" in error.traceback
        assert "missing thing" in error.traceback

    def test_repr_names_row_and_number(self):
        text = repr(Error(ValueError("bad"), row={"x": "1"}, number=5))
        assert "bad" in text and "{'x': '1'}" in text and "5" in text

    def test_describe_uses_the_cell_the_import_tagged(self):
        exc = LookupError("Author matching query does not exist")
        setattr(exc, FAILED_CELL_ATTRIBUTE, ("author", "99"))
        error = Error(exc, number=4)
        assert (error.column, error.value) == ("author", "99")
        assert error.describe() == (
            "Row 4, column 'author' (value '99'): Author matching query does not exist"
        )

    def test_describe_without_location_is_the_message(self):
        assert Error(RuntimeError("boom")).describe() == "boom"


class TestInvalidRow:
    def test_field_and_non_field_errors_are_separated(self):
        error = ValidationError(
            {"price": ["Enter a number."], NON_FIELD_ERRORS: ["Whole row is wrong."]}
        )
        invalid = InvalidRow(number=2, validation_error=error, values=("x",))
        assert invalid.field_specific_errors == {"price": ["Enter a number."]}
        assert invalid.non_field_specific_errors == ["Whole row is wrong."]
        assert invalid.error_count == 2

    def test_an_error_without_fields_counts_as_non_field(self):
        invalid = InvalidRow(number=1, validation_error=ValidationError("plain"), values=())
        assert invalid.field_specific_errors == {}
        assert invalid.non_field_specific_errors == ["plain"]
        assert "row=1" in repr(invalid) and "error_count=1" in repr(invalid)

    def test_describe_names_the_column_behind_an_attribute(self):
        error = ValidationError({"author_id": ["Bad author."], NON_FIELD_ERRORS: ["Nope."]})
        invalid = InvalidRow(
            number=3,
            validation_error=error,
            values=(),
            row={"author": "x1"},
            field_columns={"author_id": "author"},
        )
        assert invalid.describe() == [
            "Row 3, column 'author' (value 'x1'): Bad author.",
            "Row 3: Nope.",
        ]


class TestResult:
    def test_totals_start_at_zero_for_every_type_in_a_stable_order(self):
        assert list(Result().totals.items()) == [
            ("new", 0),
            ("update", 0),
            ("delete", 0),
            ("skip", 0),
            ("error", 0),
            ("invalid", 0),
        ]

    def test_increment_counts_by_import_type_and_ignores_unset_type(self):
        result = Result()
        for import_type in ("new", "new", "skip", None):
            result.increment_row_result_total(_row_result(import_type))
        assert result.totals["new"] == 2
        assert result.totals["skip"] == 1
        assert sum(result.totals.values()) == 3

    def test_valid_rows_and_iteration(self):
        result = Result()
        rows = [_row_result(t) for t in ("new", "error", "update", "invalid", "delete")]
        for row_result in rows:
            result.append_row_result(row_result)
        assert [r.import_type for r in result.valid_rows()] == ["new", "update", "delete"]
        assert list(result) == rows

    def test_row_errors_use_the_dataset_row_number(self):
        result = Result()
        boom = Error(RuntimeError("boom"))
        result.append_row_result(_row_result("new", number=1))
        # Row 2 was a skipped row left out of ``rows``; the failing row is row 3 of the file.
        result.append_row_result(_row_result("error", number=3, errors=[boom]))
        assert result.row_errors() == [(3, [boom])]
        assert result.has_errors()

    def test_row_errors_fall_back_to_position_without_numbers(self):
        result = Result()
        boom = Error(RuntimeError("boom"))
        result.append_row_result(_row_result("new"))
        result.append_row_result(_row_result("error", errors=[boom]))
        assert result.row_errors() == [(2, [boom])]

    def test_base_errors_count_as_errors_but_not_validation_errors(self):
        result = Result()
        assert not result.has_errors()
        result.append_base_error(Error(RuntimeError("hook failed")))
        assert result.has_errors()
        assert not result.has_validation_errors()

    def test_invalid_rows_follow_diff_headers(self):
        result = Result()
        result.diff_headers = ["id", "name", "price"]
        result.append_invalid_row(
            4, {"name": "Book", "price": "abc"}, ValidationError({"price": ["Enter a number."]})
        )
        assert result.has_validation_errors()
        assert not result.has_errors()
        (invalid,) = result.invalid_rows
        assert invalid.number == 4
        assert invalid.values == ("---", "Book", "abc")

    def test_failed_dataset_has_the_rows_plus_an_error_column(self):
        result = Result()
        result.add_dataset_headers(["id", "name"])
        result.append_failed_row({"id": "1", "name": "x"}, Error(ValueError("bad id")))
        result.append_failed_row({"id": "2", "name": "y"}, ValidationError("invalid row"))
        assert result.failed_dataset.headers == ["id", "name", "Error"]
        assert result.failed_dataset[0] == ("1", "x", "bad id")
        assert result.failed_dataset[1][:2] == ("2", "y")
        assert "invalid row" in result.failed_dataset[1][2]

    def test_add_dataset_headers_accepts_none(self):
        result = Result()
        result.add_dataset_headers(None)
        assert result.failed_dataset.headers == ["Error"]

    def test_error_rows_and_error_messages(self):
        result = Result()
        result.field_columns = {"price": "Price"}
        exc = ValueError("nope")
        setattr(exc, FAILED_CELL_ATTRIBUTE, ("Price", "x"))
        result.append_error_row(2, {"Price": "x"}, [Error(exc, number=2)])
        result.append_invalid_row(
            5, {"Price": "y"}, ValidationError({"price": ["Enter a number."]})
        )
        result.append_base_error(Error(RuntimeError("after_import failed")))
        assert isinstance(result.error_rows[0], ErrorRow)
        assert result.error_rows[0].number == 2
        assert result.error_messages() == [
            "after_import failed",
            "Row 2, column 'Price' (value 'x'): nope",
            "Row 5, column 'Price' (value 'y'): Enter a number.",
        ]
