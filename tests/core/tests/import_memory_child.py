"""Run in a child process by ``test_import_memory``: import 1,500 new books as a dry run and
print, as JSON, the bytes per row that the returned ``Result`` keeps alive (tracemalloc).

``sys.argv[1]`` is ``batched`` (this fork's engine, lazy diffs) or ``per_row``
(``Meta.batch_import_lookups = False``: eager diffs, as upstream).
"""

import gc
import json
import os
import sys
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ROWS = 1500


def main(engine: str) -> None:
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]
    os.environ["DJANGO_SETTINGS_MODULE"] = "settings"
    os.environ["IMPORT_EXPORT_TEST_DB"] = "sqlite"
    os.environ["IMPORT_EXPORT_TEST_SQLITE_NAME"] = ":memory:"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import tablib

    from core.models import Author, Book
    from import_export import fields, resources, widgets

    class BookResource(resources.ModelResource):
        author = fields.Field(
            attribute="author",
            column_name="author",
            widget=widgets.ForeignKeyWidget(Author, "name"),
        )

        class Meta:
            model = Book
            fields = ("id", "name", "author", "author_email", "price")
            batch_import_lookups = engine == "batched"

    Author.objects.create(name="alice")
    dataset = tablib.Dataset(headers=["id", "name", "author", "author_email", "price"])
    for i in range(ROWS):
        dataset.append([i + 1, f"book number {i}", "alice", f"r{i}@example.com", f"{i % 50}.25"])
    BookResource().import_data(dataset.subset(rows=list(range(50))), dry_run=True)  # warm up
    gc.collect()
    tracemalloc.start()
    result = BookResource().import_data(dataset, dry_run=True)
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0]
    print(json.dumps({"per_row": retained / ROWS, "rows": len(result.rows)}))


if __name__ == "__main__":
    main(sys.argv[1])
