"""A CSV of many rows imported through the admin in a real browser: the streamed dry run
previews the first rows and lists the errors, the fixed file is confirmed and every row lands.

The 200,000-row case is measured by ``benchmarks/admin_stream_import.py`` (server memory);
here the file only needs more rows than the preview shows."""

from __future__ import annotations

import re

import pytest

from .conftest import browser_unavailable_reason

_reason = browser_unavailable_reason()
if _reason:
    pytest.skip(_reason, allow_module_level=True)

from core.models import Book  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

USERNAME = "bulk-editor"
PASSWORD = "correct horse battery staple"
ROWS = 1_500
BAD_ROWS = (17, 1_234)
#: The preview's length (IMPORT_EXPORT_IMPORT_MAX_ROW_RESULTS default).
PREVIEW_ROWS = 100
#: The browser waits for a whole import of the file, not one click.
IMPORT_TIMEOUT_MS = 300_000


def books_csv(bad=()) -> bytes:
    # A date that does not parse is a validation error (an invalid row), as upstream; text in
    # a number column would fail the row instead.
    lines = ["id,name,published"]
    for number in range(1, ROWS + 1):
        published = "some day" if number in bad else f"2024-01-{number % 28 + 1:02d}"
        lines.append(f",Streamed book {number},{published}")
    return ("\n".join(lines) + "\n").encode()


def upload(page, content: bytes) -> None:
    page.select_option("#id_resource", label="BookResource")
    page.set_input_files(
        "#id_import_file", {"name": "books.csv", "mimeType": "text/csv", "buffer": content}
    )
    page.select_option("#id_format", label="csv")
    page.click("#import-form input[type=submit]", timeout=IMPORT_TIMEOUT_MS)


def test_a_large_csv_is_previewed_with_its_errors_then_imported(
    page, live_server, django_user_model
):
    django_user_model.objects.create_superuser(USERNAME, "bulk@example.com", PASSWORD)
    base_url = live_server.url
    page.goto(f"{base_url}/admin/")
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{base_url}/admin/core/book/import/")

    upload(page, books_csv(bad=BAD_ROWS))
    invalid = page.locator("table.validation-errors tbody tr")
    expect(invalid).to_have_count(len(BAD_ROWS), timeout=IMPORT_TIMEOUT_MS)
    expect(invalid.locator("td.row-number")).to_have_text([str(n) for n in BAD_ROWS])
    expect(page.locator("#confirm-import-form")).to_have_count(0)

    upload(page, books_csv())
    expect(page.locator("p.import-totals")).to_contain_text(
        f"{ROWS} new, 0 updated, 0 deleted, 0 skipped", timeout=IMPORT_TIMEOUT_MS
    )
    expect(page.locator("table.import-preview tbody tr.new")).to_have_count(PREVIEW_ROWS)
    assert Book.objects.count() == 0

    page.click("#confirm-import-form input[name=confirm]", timeout=IMPORT_TIMEOUT_MS)
    expect(page).to_have_url(re.compile(r"/admin/core/book/$"), timeout=IMPORT_TIMEOUT_MS)
    expect(page.locator("ul.messagelist li.success")).to_contain_text(
        f"Import finished: {ROWS} new, 0 updated, 0 deleted and 0 skipped books."
    )
    assert Book.objects.count() == ROWS
    assert Book.objects.filter(name=f"Streamed book {ROWS}").exists()
