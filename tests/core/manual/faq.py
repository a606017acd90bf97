"""The snippets of docs/faq.rst, run by tests/core/tests/test_manual_faq.py."""

import import_export
from import_export import resources

from ..models import Book, PulpDomain


# -- which package am I running? -------------------------------------------------------------
def running_the_streaming_fork():
    """True with this fork, False with upstream django-import-export (which has no streams)."""
    return hasattr(resources.Resource, "export_to_stream")


def installed_version():
    return import_export.__version__


# -- a fast import -------------------------------------------------------------------------------
class FastBookResource(resources.ModelResource):
    class Meta:
        model = Book
        fields = ("id", "name", "price")
        use_bulk = True  # one INSERT/UPDATE per batch: no save(), no signals
        batch_size = 1000
        skip_diff = True  # no before/after comparison per row


# -- skipping rows -------------------------------------------------------------------------------
class SkipDraftsResource(resources.ModelResource):
    class Meta:
        model = Book
        fields = ("id", "name")

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if row["name"].startswith("draft"):
            return True
        return super().skip_row(instance, original, row, import_validation_errors)


class SkipUnchangedResource(resources.ModelResource):
    class Meta:
        model = Book
        fields = ("id", "name")
        skip_unchanged = True  # a row that changes nothing is skipped...
        report_skipped = False  # ...and left out of the result's rows


# -- a model with a UUID primary key ----------------------------------------------------------
class DomainResource(resources.ModelResource):
    class Meta:
        model = PulpDomain
        fields = ("pulp_id", "name", "description")
        import_id_fields = ("pulp_id",)


# -- CSV for Excel -----------------------------------------------------------------------------
def export_csv_for_excel(path):
    """A CSV file that Excel opens as UTF-8: the text file's encoding writes a byte-order mark."""
    with open(path, "w", encoding="utf-8-sig", newline="") as csv_file:
        return resources.modelresource_factory(Book)().export_to_stream("csv", csv_file)


# -- a big export --------------------------------------------------------------------------------
def export_every_book(path):
    """Rows go to the file as they are read, in chunks: memory does not grow with the table."""
    with open(path, "wb") as output:
        return resources.modelresource_factory(Book)().export_to_stream("xlsx", output)
