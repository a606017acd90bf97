"""Browser fixtures for the end-to-end admin tests: a headless Chromium driven by Playwright.

Why the system Chromium: Playwright's own browser download cannot be fetched on the project's
machines, so the tests launch Debian's ``chromium`` (``scripts/install_browser.sh`` installs it)
or the executable named by ``IMPORT_EXPORT_CHROMIUM``. Without Playwright or the browser every
test here skips with a message that says which one is missing.

A failing test leaves a full-page screenshot and the page's HTML in ``tests/e2e/screenshots/``
(or ``$IMPORT_EXPORT_E2E_ARTIFACTS``); their paths are printed in the failure report.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

DEFAULT_CHROMIUM = "/usr/bin/chromium"
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
ARTIFACTS_DIR = Path(
    os.environ.get("IMPORT_EXPORT_E2E_ARTIFACTS", Path(__file__).resolve().parent / "screenshots")
)
#: How long one browser step (a click, a navigation, a wait for text) may take before failing.
STEP_TIMEOUT_MS = 15_000
#: Flags for a headless Chromium in a container: no sandbox (root), no GPU, /dev/shm too small,
#: and nothing that talks to the network on its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    return os.environ.get("IMPORT_EXPORT_CHROMIUM") or DEFAULT_CHROMIUM


def browser_unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    if importlib.util.find_spec("playwright") is None:
        return (
            "browser tests need the 'playwright' package "
            "(pip install -e '.[tests]' or pip install playwright)"
        )
    path = chromium_path()
    if not os.access(path, os.X_OK):
        return (
            f"browser tests need Chromium at {path} "
            "(run scripts/install_browser.sh, or set IMPORT_EXPORT_CHROMIUM to its path)"
        )
    return None


@contextmanager
def _django_orm_allowed_beside_playwright() -> Iterator[None]:
    """Let the test's own ORM calls run while Playwright's sync API is active.

    Playwright's sync API keeps an asyncio loop running in the test's thread, and Django refuses
    ORM calls from a thread with a running loop. The test's ORM calls (creating the user,
    checking the rows) are plain synchronous code, so the check is lifted while the browser runs.
    """
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


def _close_test_thread_connections() -> None:
    """Close the database connections the test opened while Playwright was active.

    Django keeps connections in context-local storage, and the code run beside Playwright's
    event loop does not share its context with pytest-django's teardown, which therefore cannot
    see (nor close) them. Left open, such a connection stops PostgreSQL from dropping the test
    database at the end of the session.
    """
    from django.db import connections

    connections.close_all()


@pytest.fixture
def page(transactional_db, live_server) -> Iterator:
    """A fresh page (own cookies, downloads accepted) in a headless Chromium started for it.

    The browser lives inside the test only: it is started after the database and the live
    server are up and stopped before they are torn down, so Playwright's event loop is never
    running while pytest-django creates, flushes or drops the database.
    """
    reason = browser_unavailable_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, _django_orm_allowed_beside_playwright():
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(accept_downloads=True, locale="en-US")
            context.set_default_timeout(STEP_TIMEOUT_MS)
            context.set_default_navigation_timeout(STEP_TIMEOUT_MS)
            yield context.new_page()
        finally:
            browser.close()
            _close_test_thread_connections()


def _artifact_stem(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", nodeid).strip("_")


def save_failure_artifacts(browser_page, nodeid: str) -> list[Path]:
    """Screenshot and HTML of the page a test failed on; the paths of what could be saved."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS_DIR / _artifact_stem(nodeid)
    saved = []
    screenshot = stem.with_suffix(".png")
    try:
        browser_page.screenshot(path=str(screenshot), full_page=True)
        saved.append(screenshot)
    except Exception as exc:  # the page may be gone; the report still says so
        print(f"e2e: could not take a screenshot: {exc!r}")
    html = stem.with_suffix(".html")
    try:
        html.write_text(browser_page.content(), encoding="utf-8")
        saved.append(html)
    except Exception as exc:
        print(f"e2e: could not save the page HTML: {exc!r}")
    return saved


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, keep what the browser showed and name the files in the report."""
    report = yield
    browser_page = getattr(item, "funcargs", {}).get("page")
    if report.failed and report.when in ("setup", "call") and browser_page is not None:
        saved = save_failure_artifacts(browser_page, item.nodeid)
        if saved:
            lines = "\n".join(f"{path}  (url: {browser_page.url})" for path in saved)
            report.sections.append(("e2e failure artifacts", lines))
    return report
