"""The admin import and export as a person uses them, in a real browser against a live server.

The main scenario goes the way an editor would: log in, import a CSV of books that has a bad row,
read the error, fix the file, preview, confirm, then filter and search the change list and export
what it shows as CSV with one column left out, and compare the downloaded file with the database.
A second one exports the rows ticked on a change list through the admin action.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest

from .conftest import browser_unavailable_reason

_reason = browser_unavailable_reason()
if _reason:
    pytest.skip(_reason, allow_module_level=True)

from core.models import Author, Book  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

USERNAME = "editor"
PASSWORD = "correct horse battery staple"
PRATCHETT = "Terry Pratchett"
LE_GUIN = "Ursula K. Le Guin"
HEADERS = ["id", "name", "author", "author_email", "published", "price"]
BOOKS = [
    ["", "Guards! Guards!", PRATCHETT, "tp@example.com", "1989-11-01", "8.99"],
    ["", "The Colour of Magic", PRATCHETT, "tp@example.com", "1983-11-24", "7.50"],
    ["", "The Light Fantastic", PRATCHETT, "tp@example.com", "1986-06-02", "7.75"],
    ["", "The Dispossessed", LE_GUIN, "ulg@example.com", "1974-05-01", "9.20"],
    ["", "Mort", PRATCHETT, "tp@example.com", "1987-11-12", "6.00"],
]
#: The row made bad in the first upload (1-based among the data rows) and its bad price.
BAD_ROW_NUMBER = 3
BAD_PRICE = "seven-ish"
#: The change list narrowing used for the export: author filter plus a search term.
SEARCH_TERM = "The"
LEFT_OUT_COLUMN = "author_email"


def books_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def with_bad_price(rows: list[list[str]]) -> list[list[str]]:
    broken = [list(row) for row in rows]
    broken[BAD_ROW_NUMBER - 1][HEADERS.index("price")] = BAD_PRICE
    return broken


def log_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(USERNAME)


def upload_books(page, content: bytes) -> None:
    """On the import page: pick the book resource and CSV, attach the file, submit."""
    page.select_option("#id_resource", label="BookResource")
    page.set_input_files(
        "#id_import_file", {"name": "books.csv", "mimeType": "text/csv", "buffer": content}
    )
    page.select_option("#id_format", label="csv")
    page.click("#import-form input[type=submit]")


def expected_export_rows(books) -> list[dict[str, str]]:
    """What the export should say for each book, from the database, without the left-out column."""
    return [
        {
            "id": str(book.pk),
            "name": book.name,
            "author": book.author.name,
            "published": book.published.isoformat(),
            "price": str(book.price),
        }
        for book in books
    ]


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_superuser(USERNAME, "editor@example.com", PASSWORD)


@pytest.fixture
def authors():
    return {name: Author.objects.create(name=name) for name in (PRATCHETT, LE_GUIN)}


def test_import_with_an_error_then_fixed_then_export_filtered_csv(
    page, live_server, editor, authors
):
    base_url = live_server.url
    log_in(page, base_url)

    # The change list carries the Import button.
    page.goto(f"{base_url}/admin/core/book/")
    page.click("a.import_link")
    expect(page).to_have_url(f"{base_url}/admin/core/book/import/")

    # First upload: one row has a price that is not a number. Nothing is imported, and the
    # page names the row and the column, and shows the value.
    upload_books(page, books_csv(with_bad_price(BOOKS)))
    invalid = page.locator("table.validation-errors tbody tr")
    expect(invalid).to_have_count(1)
    expect(invalid.locator("td.row-number")).to_have_text(str(BAD_ROW_NUMBER))
    expect(invalid.locator(".validation-error-field-label")).to_have_text("price")
    # The field messages are shown in the row (hovering, as a person would, must not hide them).
    invalid.locator("td.errors").hover()
    expect(invalid.locator(".validation-error-container")).to_have_css("opacity", "1")
    # Upstream's message (the decimal module's text); the row's cells show the bad value.
    expect(invalid.locator(".validation-error-list")).to_contain_text("decimal.ConversionSyntax")
    expect(invalid).to_contain_text(BAD_PRICE)
    expect(page.locator("#confirm-import-form")).to_have_count(0)
    assert Book.objects.count() == 0

    # Second upload, fixed: the preview lists every row as new, nothing is written yet.
    upload_books(page, books_csv(BOOKS))
    expect(page.locator("p.import-totals")).to_contain_text(
        f"{len(BOOKS)} new, 0 updated, 0 deleted, 0 skipped"
    )
    preview_rows = page.locator("table.import-preview tbody tr.new")
    expect(preview_rows).to_have_count(len(BOOKS))
    expect(page.locator("table.import-preview")).to_contain_text("The Colour of Magic")
    assert Book.objects.count() == 0

    page.click("#confirm-import-form input[name=confirm]")
    expect(page).to_have_url(f"{base_url}/admin/core/book/")
    expect(page.locator("ul.messagelist li.success")).to_contain_text(
        f"Import finished: {len(BOOKS)} new, 0 updated, 0 deleted and 0 skipped books."
    )
    imported = {
        (book.name, book.author.name, book.published.isoformat(), book.price)
        for book in Book.objects.select_related("author")
    }
    assert imported == {
        (name, author, published, Decimal(price))
        for _id, name, author, _email, published, price in BOOKS
    }

    # Narrow the change list: one author (sidebar filter) and a search term.
    page.locator("#changelist-filter a", has_text=PRATCHETT).click()
    expect(page).to_have_url(re.compile(r"author__id__exact="))
    page.fill("#searchbar", SEARCH_TERM)
    page.press("#searchbar", "Enter")
    expect(page).to_have_url(re.compile(rf"q={SEARCH_TERM}"))
    shown = Book.objects.filter(author=authors[PRATCHETT], name__icontains=SEARCH_TERM)
    expect(page.locator("#result_list tbody tr")).to_have_count(shown.count())

    # Export what the change list shows: CSV, one column unticked.
    page.click("a.export_link")
    expect(page).to_have_url(re.compile(r"/admin/core/book/export/\?.*author__id__exact="))
    page.select_option("#id_resource", label="BookResource")
    page.select_option("#id_format", label="csv")
    page.uncheck(f"input[name=bookresource_{LEFT_OUT_COLUMN}]")
    with page.expect_download() as download_info:
        page.click("#export-form input[type=submit]")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames
        exported = list(reader)

    assert header == [name for name in HEADERS if name != LEFT_OUT_COLUMN]
    expected = expected_export_rows(shown.select_related("author"))
    assert len(expected) == 2  # the scenario's data: a filter and a search that both matter
    assert sorted(exported, key=lambda row: row["id"]) == sorted(
        expected, key=lambda row: row["id"]
    )


def test_export_action_downloads_only_the_ticked_rows(page, live_server, editor):
    """Tick some authors on the change list, run the export action, download CSV."""
    everyone = [Author.objects.create(name=name) for name in ("Ann", "Ben", "Cy")]
    picked = everyone[::2]
    base_url = live_server.url
    log_in(page, base_url)

    page.goto(f"{base_url}/admin/core/author/")
    for author in picked:
        page.check(f"input.action-select[value='{author.pk}']")
    page.select_option("select[name=action]", "export_admin_action")
    page.click("button[name=index]")
    expect(page.locator("p.export-selected-count")).to_contain_text(
        f"Export {len(picked)} selected items."
    )

    page.select_option("#id_format", label="csv")
    with page.expect_download() as download_info:
        page.click("#export-form input[type=submit]")
    with open(download_info.value.path(), encoding="utf-8-sig", newline="") as handle:
        exported = list(csv.DictReader(handle))

    assert sorted((row["id"], row["name"]) for row in exported) == sorted(
        (str(author.pk), author.name) for author in picked
    )
