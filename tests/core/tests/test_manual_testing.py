"""docs/testing.rst's example tests (core/manual/testing_resources.py) pass against the real
package, and fail when the resource they test is broken (so they test something)."""

import unittest

import pytest

from core.manual import testing_resources
from core.manual.testing_resources import (  # noqa: F401 - collected and run by pytest
    BookAdminTests,
    BookExportTests,
    BookImportTests,
    BookStreamImportTests,
)
from core.models import Author
from import_export import fields
from import_export.widgets import ForeignKeyWidget


def run_case(case_class, name):
    suite = unittest.TestSuite([case_class(name)])
    return unittest.TextTestRunner(stream=open("/dev/null", "w"), verbosity=0).run(suite)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "case_class, name",
    [
        (BookExportTests, "test_export_is_the_expected_csv"),
        (BookImportTests, "test_an_unknown_author_is_a_row_error"),
        (BookStreamImportTests, "test_a_csv_file_in_memory"),
    ],
)
def test_the_examples_catch_a_resource_that_exports_and_imports_authors_by_id(
    case_class, name, monkeypatch
):
    """A control: with the author column by primary key, the user's tests fail."""
    assert run_case(case_class, name).wasSuccessful()
    broken = fields.Field(attribute="author", column_name="author", widget=ForeignKeyWidget(Author))
    monkeypatch.setitem(testing_resources.BookResource.fields, "author", broken)
    assert not run_case(case_class, name).wasSuccessful()
