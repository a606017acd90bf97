#!/usr/bin/env python
"""Admin export benchmark: what a browser and the server see when the admin exports a big table.

The test project runs in a CHILD process as a real HTTP server (Django's own threaded WSGI
server, the one behind ``runserver``, with ``DEBUG = False``) on an SQLite database of
pulpcore-shaped packages (``benchmarks/common.py``). This process is the client: it logs in as a
superuser through the login form, opens the package export page, ticks every field, and posts
the export of all rows as CSV and as JSON. For each export it reports

* time to first byte of the body, and total time until the last byte;
* bytes received, and rows found in the file (read back after the clock stopped);
* the server process's peak resident-memory growth during the export: its peak (``VmHWM``) is
  reset with ``/proc/<pid>/clear_refs`` just before the request, and the growth is ``VmHWM``
  after the response minus ``VmRSS`` before it.

Each format is measured twice, in fresh servers: with the admin's streamed download (the
default), and with ``export_streaming = False`` set on the package admin, which makes it build
the whole file in memory first, as upstream 4.4 does. A small filtered export warms each server
up first, so imports done on first use are not counted as growth.

    python benchmarks/admin_streaming.py                    # 200k rows, csv and json
    python benchmarks/admin_streaming.py --rows 50000 --formats csv --max-growth-mb 48

It exits 1 when a streamed export does not meet the streaming promise: its first byte must come
before half of its total time, and the server's peak growth must stay under ``--max-growth-mb``.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, ensure_database  # noqa: E402

HOST = "127.0.0.1"
USERNAME = "bench-admin"
PASSWORD = "bench-admin-password"
LOGIN_PATH = "/admin/login/"
EXPORT_PATH = "/admin/core/package/export/"
#: A search that matches a few dozen packages: the warm-up export.
WARM_UP_QUERY = "q=package-4999"
SERVER_START_TIMEOUT_S = 60
#: Generous: the classic JSON export of 200k rows takes a while on a small machine.
REQUEST_TIMEOUT_S = 600
READ_SIZE = 64 * 1024


# -- server child -------------------------------------------------------------------------------


def serve(port: int, db_path: Path, classic: bool) -> None:
    """Child side: the test project over HTTP on ``port`` until the parent terminates it."""
    from benchmarks.common import setup_django

    setup_django(db_path)
    from core.models import Package
    from django.conf import settings
    from django.contrib import admin
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application

    assert not settings.DEBUG, "the benchmark measures the server with DEBUG off"
    _ensure_superuser()
    if classic:
        # The admin's switch for building the whole file first (upstream's way).
        admin.site._registry[Package].export_streaming = False
    run(HOST, port, get_wsgi_application(), threading=True)


def _ensure_superuser() -> None:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user = user_model.objects.filter(username=USERNAME).first()
    if user is None:
        user_model.objects.create_superuser(USERNAME, "bench@example.com", PASSWORD)


class ServerChild:
    """A server child process on a free port, with its peak memory readable from ``/proc``."""

    def __init__(self, db_path: Path, classic: bool):
        self.port = _free_port()
        self.log = tempfile.NamedTemporaryFile(
            "w+", prefix="admin-streaming-server-", suffix=".log", delete=False
        )
        command = [sys.executable, __file__, "--serve", str(self.port), "--db", str(db_path)]
        if classic:
            command.append("--classic")
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT
        )

    def wait_until_listening(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server child exited early; see {self.log.name}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server child not listening after {SERVER_START_TIMEOUT_S}s")

    def status_kb(self, key: str) -> int:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        raise KeyError(key)

    def reset_peak_kb(self) -> int:
        """Reset the child's peak RSS to its current RSS; returns that RSS in kB."""
        with open(f"/proc/{self.process.pid}/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return self.status_kb("VmRSS")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        os.unlink(self.log.name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


# -- client -------------------------------------------------------------------------------------


class FormReader(HTMLParser):
    """What a browser would submit from one form: hidden inputs, ticked boxes, select options."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, str] = {}
        self.options: dict[str, dict[str, str]] = {}
        self._select: str | None = None
        self._option_value: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input":
            self._read_input(attributes)
        elif tag == "select":
            self._select = attributes.get("name")
            self.options[self._select] = {}
        elif tag == "option" and self._select:
            self._option_value = attributes.get("value", "")

    def _read_input(self, attributes: dict) -> None:
        name = attributes.get("name")
        kind = attributes.get("type", "text")
        if not name or kind == "submit":
            return
        if kind == "checkbox":
            if "checked" in attributes:
                self.fields[name] = attributes.get("value") or "on"
        else:
            self.fields[name] = attributes.get("value") or ""

    def handle_data(self, data):
        if self._select and self._option_value is not None and data.strip():
            self.options[self._select][data.strip()] = self._option_value
            self._option_value = None

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self.inside = False


class AdminClient:
    """A cookie-keeping HTTP client of the admin, one connection per request."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def _headers(self, extra: dict | None = None) -> dict:
        headers = {"Host": f"{HOST}:{self.port}", "Referer": f"http://{HOST}:{self.port}/admin/"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def _keep_cookies(self, response) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def open(self, method: str, path: str, fields: dict | None = None):
        """Send one request; returns the connection and the response (its body not read)."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT_S)
        body = None
        extra = {}
        if fields is not None:
            body = urlencode(fields)
            extra["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=self._headers(extra))
        response = connection.getresponse()
        self._keep_cookies(response)
        return connection, response

    def fetch(self, method: str, path: str, fields: dict | None = None) -> tuple[int, str]:
        connection, response = self.open(method, path, fields)
        try:
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def form(self, path: str, form_id: str) -> FormReader:
        status, html = self.fetch("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        reader = FormReader(form_id)
        reader.feed(html)
        return reader

    def log_in(self) -> None:
        status, html = self.fetch("GET", LOGIN_PATH)
        token = _csrf_token(html)
        status, _html = self.fetch(
            "POST",
            LOGIN_PATH + "?next=/admin/",
            {"csrfmiddlewaretoken": token, "username": USERNAME, "password": PASSWORD},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login as {USERNAME} failed (status {status})")


def _csrf_token(html: str) -> str:
    reader = FormReader(form_id="login-form")
    reader.feed(html)
    return reader.fields["csrfmiddlewaretoken"]


@dataclass
class ExportMeasure:
    mode: str
    file_format: str
    status: int
    streamed: bool
    first_byte_s: float
    total_s: float
    size_bytes: int
    rows: int
    rss_before_kb: int
    peak_growth_kb: int


def export_fields(client: AdminClient, file_format: str, query: str = "") -> tuple[str, dict]:
    """The export page's form, filled as a person would: every field ticked, the format chosen."""
    path = EXPORT_PATH + (f"?{query}" if query else "")
    form = client.form(path, "export-form")
    formats = form.options.get("format", {})
    if file_format not in formats:
        raise RuntimeError(f"export page offers no {file_format!r} (it offers {sorted(formats)})")
    fields = dict(form.fields)
    fields["format"] = formats[file_format]
    return path, fields


def measure_export(server: ServerChild, client: AdminClient, mode: str, file_format: str):
    """Post the export of every row and time it; the body goes to a temporary file."""
    path, fields = export_fields(client, file_format)
    rss_before = server.reset_peak_kb()
    with tempfile.TemporaryFile() as body:
        started = time.perf_counter()
        connection, response = client.open("POST", path, fields)
        first_byte = None
        size = 0
        while chunk := response.read1(READ_SIZE):
            if first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(chunk)
            body.write(chunk)
        total = time.perf_counter() - started
        connection.close()
        peak_growth = server.status_kb("VmHWM") - rss_before
        body.seek(0)
        rows = count_rows(body, file_format) if response.status == 200 else 0
    return ExportMeasure(
        mode=mode,
        file_format=file_format,
        status=response.status,
        streamed=response.getheader("Content-Length") is None,
        first_byte_s=first_byte if first_byte is not None else total,
        total_s=total,
        size_bytes=size,
        rows=rows,
        rss_before_kb=rss_before,
        peak_growth_kb=peak_growth,
    )


def count_rows(body, file_format: str) -> int:
    """Data rows in an exported file (CSV minus its header line, or JSON list items)."""
    import io

    text = io.TextIOWrapper(body, encoding="utf-8-sig", newline="")
    if file_format == "json":
        return len(json.load(text))
    return sum(1 for _ in csv.reader(text)) - 1


def warm_up(client: AdminClient, file_format: str) -> None:
    """A small filtered export, so first-use imports are in the baseline, not the growth."""
    path, fields = export_fields(client, file_format, WARM_UP_QUERY)
    status, _body = client.fetch("POST", path, fields)
    if status != 200:
        raise RuntimeError(f"warm-up export as {file_format} answered {status}")


def run_scenario(db_path: Path, mode: str, file_format: str) -> ExportMeasure:
    server = ServerChild(db_path, classic=mode == "classic")
    try:
        server.wait_until_listening()
        client = AdminClient(server.port)
        client.log_in()
        warm_up(client, file_format)
        return measure_export(server, client, mode, file_format)
    finally:
        server.stop()


# -- report -------------------------------------------------------------------------------------


def print_table(measures: list[ExportMeasure], expected_rows: int) -> None:
    header = (
        f"{'mode':<9} {'format':<6} {'status':>6} {'streamed':>8} {'rows':>8} "
        f"{'1st byte s':>10} {'total s':>8} {'MB':>8} {'RSS before MB':>13} {'peak growth MB':>14}"
    )
    print(header)
    print("-" * len(header))
    for m in measures:
        rows = f"{m.rows}" + ("" if m.rows == expected_rows else "!")
        print(
            f"{m.mode:<9} {m.file_format:<6} {m.status:>6} {'yes' if m.streamed else 'no':>8} "
            f"{rows:>8} {m.first_byte_s:>10.2f} {m.total_s:>8.2f} {m.size_bytes / 2**20:>8.1f} "
            f"{m.rss_before_kb / 1024:>13.1f} {m.peak_growth_kb / 1024:>14.1f}"
        )


def streaming_problems(
    measures: list[ExportMeasure], expected_rows: int, max_growth_mb: float
) -> list[str]:
    """Where a streamed export breaks the promise: early first byte, bounded server memory."""
    problems = []
    for m in measures:
        name = f"{m.mode} {m.file_format}"
        if m.status != 200 or m.rows != expected_rows:
            problems.append(f"{name}: status {m.status}, {m.rows} rows of {expected_rows}")
        if m.mode != "stream":
            continue
        if not m.streamed:
            problems.append(f"{name}: response has a Content-Length, so it was not streamed")
        if m.first_byte_s > m.total_s / 2:
            problems.append(f"{name}: first byte after {m.first_byte_s:.2f}s of {m.total_s:.2f}s")
        if m.peak_growth_kb / 1024 > max_growth_mb:
            problems.append(
                f"{name}: server grew {m.peak_growth_kb / 1024:.1f} MB (bound {max_growth_mb} MB)"
            )
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--formats", default="csv,json", help="comma-separated: csv,json,...")
    parser.add_argument("--modes", default="stream,classic", help="stream and/or classic")
    parser.add_argument("--max-growth-mb", type=float, default=64.0)
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--classic", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve:
        serve(args.serve, args.db, args.classic)
        return 0

    db_path = ensure_database(args.rows)
    print(f"database: {db_path} ({args.rows} packages); server: Django WSGI server, DEBUG off")
    measures = []
    for file_format in args.formats.split(","):
        for mode in args.modes.split(","):
            measure = run_scenario(db_path, mode, file_format)
            measures.append(measure)
            print(
                f"  {mode} {file_format}: {measure.total_s:.1f}s, "
                f"{measure.peak_growth_kb / 1024:.1f} MB growth",
                file=sys.stderr,
                flush=True,
            )
    print_table(measures, args.rows)
    problems = streaming_problems(measures, args.rows, args.max_growth_mb)
    for problem in problems:
        print(f"FAIL {problem}")
    if not problems:
        print(
            f"OK: streamed exports sent their first byte early and grew the server by at most "
            f"{args.max_growth_mb:g} MB"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
