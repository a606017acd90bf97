"""``manage.py import`` reads the file as it imports it, with a progress line on a terminal."""

import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from core.models import Category
from import_export import resources
from import_export.stream_import import needs_classic_import

pytestmark = pytest.mark.django_db


class CategoryResource(resources.ModelResource):
    class Meta:
        model = Category
        fields = ("id", "name")


class CountingHooksResource(CategoryResource):
    """Its before_import reads the rows, as code written for upstream may."""

    seen = []

    def before_import(self, dataset, **kwargs):
        CountingHooksResource.seen.append(len(list(dataset)))


class DeclaredStreamableResource(CountingHooksResource):
    class Meta(CategoryResource.Meta):
        stream_import_hooks = True


def run_import(path, resource="core.Category", stderr=None, **options):
    stderr = stderr or io.StringIO()
    call_command(
        "import",
        resource,
        str(path),
        interactive=False,
        stdout=io.StringIO(),
        stderr=stderr,
        **options,
    )
    return stderr.getvalue()


class TerminalStream(io.StringIO):
    def isatty(self):
        return True


def write_rows(path, count):
    path.write_text("id,name\n" + "".join(f",name {n}\n" for n in range(count)))
    return path


def test_the_command_streams_the_file(tmp_path):
    path = write_rows(tmp_path / "in.csv", 3)
    original = resources.Resource.import_from_stream
    with mock.patch.object(
        resources.Resource, "import_from_stream", autospec=True, side_effect=original
    ) as streamed:
        message = run_import(path)
    assert streamed.call_count == 1
    assert "3 new" in message
    assert Category.objects.count() == 3


def test_a_terminal_gets_a_progress_line_with_rows_and_rate(tmp_path):
    path = write_rows(tmp_path / "in.csv", 1500)
    stderr = TerminalStream()
    run_import(path, stderr=stderr)
    report = stderr.getvalue()
    assert "\r1,500 rows read, " in report and " rows/s" in report
    assert Category.objects.count() == 1500


def test_hooks_that_may_read_the_rows_get_the_classic_dataset(tmp_path):
    assert needs_classic_import(CountingHooksResource)
    assert not needs_classic_import(DeclaredStreamableResource)
    assert not needs_classic_import(CategoryResource)
    path = write_rows(tmp_path / "in.csv", 2)
    CountingHooksResource.seen.clear()
    run_import(path, resource=f"{__name__}.CountingHooksResource")
    assert CountingHooksResource.seen == [2]


@override_settings(IMPORT_EXPORT_IMPORT_MAX_ROWS=2)
def test_a_file_over_the_limit_fails_with_the_file_name(tmp_path):
    path = write_rows(tmp_path / "in.csv", 3)
    with pytest.raises(CommandError, match=r"Cannot read '.*in.csv' as CSV: The file has more"):
        run_import(path)
    assert Category.objects.count() == 0


@override_settings(IMPORT_EXPORT_IMPORT_MAX_ERRORS=2)
def test_failed_rows_beyond_the_kept_ones_are_counted(tmp_path):
    Category.objects.create(name="dup")
    path = tmp_path / "in.csv"
    path.write_text("id,name\n" + ",dup\n" * 5)
    stderr = io.StringIO()
    with pytest.raises(CommandError, match="5 problem"):
        run_import(path, stderr=stderr)
    assert "... and 3 more failed row(s), not listed." in stderr.getvalue()
