#!/usr/bin/env python
"""Admin import benchmark: the server's peak memory while the admin imports a large CSV.

The test project runs in a CHILD process as a real HTTP server (Django's threaded WSGI server,
``DEBUG = False``) on a copy of an empty pulpcore-shaped SQLite database.  This process is the
client: it logs in through the login form, opens the package import page, uploads a CSV of
``--rows`` packages (the multipart body is streamed from a temporary file), reads the preview,
and posts the confirm form.  For the dry run and for the confirm step it reports the time and
the server's peak resident-memory growth (``/proc/<pid>/clear_refs`` reset just before the
request; ``VmHWM`` after the response minus ``VmRSS`` before it), and checks the table holds
every row at the end.

Modes, each in a fresh server: ``stream`` (the default admin: chunked upload storage,
``import_from_stream`` for the dry run and the confirm step) and ``classic``
(``stream_import = False`` on the package admin: the stored file is read whole into a Dataset
twice, as upstream 4.4 does).

    python benchmarks/admin_stream_import.py                   # 200k rows, stream only
    python benchmarks/admin_stream_import.py --rows 20000 --modes stream,classic

It exits 1 when a streamed step grows the server by more than ``--max-growth-mb`` (80).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import admin_streaming  # noqa: E402
from benchmarks.admin_streaming import HOST, REQUEST_TIMEOUT_S, AdminClient, FormReader  # noqa: E402
from benchmarks.common import DEFAULT_CACHE, ROOT, _package_row, ensure_database  # noqa: E402
from benchmarks.stream_import_benchmark import HEADERS  # noqa: E402

IMPORT_PATH = "/admin/core/package/import/"
PROCESS_PATH = "/admin/core/package/process_import/"


# -- server child ---------------------------------------------------------------------------------


def serve(port: int, db_path: Path, classic: bool) -> None:
    from benchmarks.common import setup_django

    setup_django(db_path)
    from core.models import Package
    from django.conf import settings
    from django.contrib import admin
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application

    assert not settings.DEBUG, "the benchmark measures the server with DEBUG off"
    admin_streaming._ensure_superuser()
    if classic:
        admin.site._registry[Package].stream_import = False
    run(HOST, port, get_wsgi_application(), threading=True)


class ImportServer(admin_streaming.ServerChild):
    """The server child of :mod:`benchmarks.admin_streaming`, serving with :func:`serve`."""

    def __init__(self, db_path: Path, classic: bool):
        self.port = admin_streaming._free_port()
        self.log = tempfile.NamedTemporaryFile(
            "w+", prefix="admin-import-server-", suffix=".log", delete=False
        )
        command = [sys.executable, __file__, "--serve", str(self.port), "--db", str(db_path)]
        if classic:
            command.append("--classic")
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT
        )


# -- client ---------------------------------------------------------------------------------------


def _admin_row(i: int) -> list:
    """One package as the admin's PackageResource reads it: the repository by its name."""
    repository_id, *rest = _package_row(i)
    return ["", f"rhel-9-baseos-{repository_id}", *rest]


def ensure_csv(rows: int) -> Path:
    path = DEFAULT_CACHE / f"admin-import-named-{rows}.csv"
    if not path.exists():
        DEFAULT_CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with open(partial, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADERS)
            for i in range(rows):
                writer.writerow(_admin_row(i))
        partial.rename(path)
    return path


def post_multipart(client: AdminClient, path: str, fields: dict, file_path: Path):
    """POST ``fields`` and the file as multipart/form-data, the body streamed from disk."""
    boundary = uuid.uuid4().hex
    with tempfile.TemporaryFile() as body:
        for name, value in fields.items():
            body.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        body.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="import_file"; '
            f'filename="{file_path.name}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
        )
        with open(file_path, "rb") as source:
            shutil.copyfileobj(source, body)
        body.write(f"\r\n--{boundary}--\r\n".encode())
        size = body.tell()
        body.seek(0)
        connection = http.client.HTTPConnection(HOST, client.port, timeout=REQUEST_TIMEOUT_S)
        headers = client._headers(
            {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(size),
            }
        )
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        client._keep_cookies(response)
        html = response.read().decode("utf-8", "replace")
        connection.close()
    return response.status, html


def timed(server, step):
    before = server.reset_peak_kb()
    started = time.perf_counter()
    outcome = step()
    seconds = time.perf_counter() - started
    return outcome, seconds, (server.status_kb("VmHWM") - before) / 1024


def run_scenario(mode: str, rows: int, csv_path: Path) -> list[dict]:
    template = ensure_database(0, quiet=True)
    with tempfile.TemporaryDirectory(prefix="admin-import-bench-") as folder:
        db_path = Path(folder) / "db.sqlite3"
        shutil.copyfile(template, db_path)
        server = ImportServer(db_path, classic=mode == "classic")
        try:
            server.wait_until_listening()
            client = AdminClient(server.port)
            client.log_in()
            measures = _import_through_admin(server, client, mode, rows, csv_path)
        finally:
            server.stop()
        measures.append({"mode": mode, "step": "rows in table", "value": _count(db_path)})
    return measures


def _import_through_admin(server, client, mode, rows, csv_path) -> list[dict]:
    form = client.form(IMPORT_PATH, "import-form")
    fields = dict(form.fields)
    fields["format"] = form.options["format"]["csv"]
    fields.setdefault("resource", "0")
    (status, html), seconds, growth = timed(
        server, lambda: post_multipart(client, IMPORT_PATH, fields, csv_path)
    )
    confirm = FormReader("confirm-import-form")
    confirm.feed(html)
    if status != 200 or not confirm.fields:
        raise RuntimeError(f"dry run answered {status} without a confirm form")
    measures = [{"mode": mode, "step": "dry run", "seconds": seconds, "growth_mb": growth}]
    (status, _html), seconds, growth = timed(
        server, lambda: client.fetch("POST", PROCESS_PATH, confirm.fields)
    )
    if status != 302:
        raise RuntimeError(f"confirm answered {status}")
    measures.append({"mode": mode, "step": "confirm", "seconds": seconds, "growth_mb": growth})
    return measures


def _count(db_path: Path) -> int:
    import sqlite3

    connection = sqlite3.connect(db_path)
    try:
        return connection.execute("SELECT COUNT(*) FROM core_package").fetchone()[0]
    finally:
        connection.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--modes", default="stream")
    parser.add_argument("--max-growth-mb", type=float, default=80.0)
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--classic", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.db, args.classic)
        return 0

    csv_path = ensure_csv(args.rows)
    size_mb = csv_path.stat().st_size / 2**20
    print(f"file: {csv_path} ({args.rows:,} rows, {size_mb:.1f} MB); Django WSGI server, DEBUG off")
    problems = []
    print("| mode | step | seconds | server peak growth (MB) |")
    print("|---|---|---:|---:|")
    for mode in args.modes.split(","):
        for measure in run_scenario(mode, args.rows, csv_path):
            if "value" in measure:
                print(f"| {mode} | {measure['step']} | {measure['value']:,} | |")
                if measure["value"] != args.rows:
                    problems.append(f"{mode}: {measure['value']} rows imported of {args.rows}")
                continue
            print(
                f"| {mode} | {measure['step']} | {measure['seconds']:.1f} | "
                f"{measure['growth_mb']:.1f} |",
                flush=True,
            )
            if mode == "stream" and measure["growth_mb"] > args.max_growth_mb:
                problems.append(f"stream {measure['step']}: {measure['growth_mb']:.1f} MB")
    for problem in problems:
        print(f"FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
