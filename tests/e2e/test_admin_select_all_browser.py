""" "Select all 60,000" on a change list, the export action, a CSV download: in a real browser.

Upstream (and this fork before the signed selection) answered this with HTTP 400: the export form
carried one hidden field per selected row, past Django's ``DATA_UPLOAD_MAX_NUMBER_FIELDS``. The
test selects every row, then every row a filter leaves, and checks the file has exactly those.

The server's peak memory growth during each download is printed: the live server runs in this
process, so a thread samples the process's resident size while the browser downloads (the test
thread only waits for the browser meanwhile).
"""

from __future__ import annotations

import csv
import datetime
import gc
import os
import threading
import time

import pytest

from .conftest import browser_unavailable_reason

_reason = browser_unavailable_reason()
if _reason:
    pytest.skip(_reason, allow_module_level=True)

from core.models import Author  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

USERNAME = "select-all"
PASSWORD = "correct horse battery staple"
ROWS = 60_000
BIRTHDAY = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
#: The download of all rows, not a single click.
DOWNLOAD_TIMEOUT_MS = 180_000
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


class PeakResidentGrowth:
    """Samples this process's resident size every few milliseconds; ``growth`` is the peak
    above the size when sampling started."""

    def __init__(self):
        gc.collect()
        self.baseline = self.peak = resident_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, resident_bytes())
            time.sleep(0.005)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / 2**20


def make_authors() -> None:
    """``ROWS`` authors, every other one with a birthday (the filter keeps those)."""
    Author.objects.bulk_create(
        (
            Author(name=f"Author {number}", birthday=BIRTHDAY if number % 2 else None)
            for number in range(ROWS)
        ),
        batch_size=5_000,
    )


def log_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/admin/")
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(USERNAME)


def select_all_and_export(page, change_list_url: str, expected: int) -> tuple[list, float, float]:
    """Tick the page, follow "Select all N", run the export action, download CSV.

    Returns the data rows, the server's peak memory growth (MB) and the download's seconds.
    """
    page.goto(change_list_url)
    page.check("#action-toggle")
    page.click("div.actions span.question a")
    expect(page.locator("div.actions span.all")).to_be_visible()
    page.select_option("select[name=action]", "export_admin_action")
    page.click("button[name=index]")
    expect(page.locator("p.export-selected-count")).to_contain_text(
        f"Export {expected} selected items."
    )
    assert page.locator("input[name=export_items]").count() == 0
    page.select_option("#id_format", label="csv")
    started = time.perf_counter()
    with PeakResidentGrowth() as memory:
        with page.expect_download(timeout=DOWNLOAD_TIMEOUT_MS) as download_info:
            page.click("#export-form input[type=submit]")
        path = download_info.value.path()
    seconds = time.perf_counter() - started
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return rows, memory.growth_mb, seconds


def test_select_all_then_export_downloads_every_row(page, live_server, django_user_model, capsys):
    started = time.perf_counter()
    make_authors()
    django_user_model.objects.create_superuser(USERNAME, "all@example.com", PASSWORD)
    created = time.perf_counter() - started
    base_url = live_server.url
    log_in(page, base_url)

    rows, growth, seconds = select_all_and_export(page, f"{base_url}/admin/core/author/", ROWS)
    assert len(rows) == ROWS
    assert {row["id"] for row in rows} == {
        str(pk) for pk in Author.objects.values_list("pk", flat=True)
    }
    report = [f"all {ROWS} rows: {seconds:.1f} s, server peak RSS growth {growth:.1f} MB"]

    filtered = Author.objects.filter(birthday__isnull=False)
    rows, growth, seconds = select_all_and_export(
        page, f"{base_url}/admin/core/author/?birthday__isnull=False", filtered.count()
    )
    assert len(rows) == filtered.count() == ROWS // 2
    assert {row["id"] for row in rows} == {str(pk) for pk in filtered.values_list("pk", flat=True)}
    assert all(row["birthday"] for row in rows)
    report.append(
        f"filtered {len(rows)} rows: {seconds:.1f} s, server peak RSS growth {growth:.1f} MB"
    )
    with capsys.disabled():
        print(f"\nselect all (rows created in {created:.1f} s): " + "; ".join(report))
