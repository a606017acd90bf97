#!/usr/bin/env python
"""Import benchmark: peak memory growth and rows/s of the streamed import against import_data.

Modes (each case in a fresh child process, on its own copy of an empty pulpcore-shaped SQLite
database with the 20 repositories the rows refer to by name):

* ``stream``   — ``resource.import_from_stream(format, open(path, "rb"))`` (this fork);
* ``batched``  — ``resource.import_data(format.create_dataset(text))`` with the same resource,
  i.e. this fork's classic path in bulk batches (``use_bulk``, ``batch_size=1000``);
* ``upstream`` — the same ``import_data`` call run by django-import-export 4.4.3 (the python of
  a virtualenv where it is installed, ``--upstream-python``).

The resource is the test project's ``PackageResource`` (13 columns, wide text) with the
repository given by id (written to ``repository_id``, no query per row), ``use_bulk``,
``batch_size = 1000``, ``skip_diff`` and ``force_init_instance`` (every row is new), as a bulk
loader of exported data is configured.
The files are written once per size and format under ``$IMPORT_EXPORT_BENCH_DIR`` (default
``/tmp/import-export-bench``), in the fork's export format of that resource.

    python benchmarks/stream_import_benchmark.py --upstream-python /tmp/upstream-venv/bin/python
    python benchmarks/stream_import_benchmark.py --sizes 10000 --formats csv --modes stream
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# In an ``upstream`` child the installed django-import-export must win over this checkout.
UPSTREAM_CHILD = os.environ.get("IMPORT_EXPORT_BENCH_UPSTREAM") == "1"
if UPSTREAM_CHILD:
    sys.path.append(str(Path(__file__).resolve().parent.parent))
else:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    DEFAULT_CACHE,
    REPOSITORIES,
    ROOT,
    _package_row,
    ensure_database,
    flat_growth_note,
    format_table,
    read_status_kb,
    reset_peak,
    streamed_cases,
)

WARM_UP_ROWS = 200
HEADERS = (
    "id",
    "repository",
    "name",
    "epoch",
    "version",
    "release",
    "arch",
    "pkg_id",
    "checksum_type",
    "summary",
    "description",
    "url",
    "size_package",
    "time_build",
)


# -- input files ---------------------------------------------------------------------------------


def _file_row(i: int) -> list:
    """One package: no id (new rows), the repository by its id."""
    return ["", *(str(value) for value in _package_row(i))]


def ensure_file(rows: int, file_format: str, cache: Path = DEFAULT_CACHE) -> Path:
    path = cache / f"import-{rows}.{file_format}"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with open(partial, "w", encoding="utf-8", newline="") as handle:
        if file_format == "csv":
            writer = csv.writer(handle)
            writer.writerow(HEADERS)
            for i in range(rows):
                writer.writerow(_file_row(i))
        else:
            handle.write("[")
            for i in range(rows):
                handle.write((", " if i else "") + json.dumps(dict(zip(HEADERS, _file_row(i)))))
            handle.write("]")
    partial.rename(path)
    return path


# -- child side ----------------------------------------------------------------------------------


def bench_resource_class():
    from core.resources import PackageResource

    from import_export import fields, widgets

    class BenchPackageResource(PackageResource):
        # The repository by id, written straight to the column: no query per row, so the
        # figures show the import machinery rather than one foreign-key lookup per row.
        repository = fields.Field(
            attribute="repository_id", column_name="repository", widget=widgets.IntegerWidget()
        )

        class Meta(PackageResource.Meta):
            use_bulk = True
            batch_size = 1000
            skip_diff = True
            force_init_instance = True

    return BenchPackageResource


def run_child(mode: str, file_format: str, path: Path, db_path: Path) -> dict:
    from benchmarks.common import setup_django

    setup_django(db_path, prefer_installed=UPSTREAM_CHILD)
    from core.models import Package

    resource_class = bench_resource_class()
    importer = _stream if mode == "stream" else _import_data
    # Warm up (libraries imported, first queries made) on a small file, rolled back.
    importer(resource_class, file_format, ensure_file(WARM_UP_ROWS, file_format), dry_run=True)
    baseline = reset_peak()
    started = time.perf_counter()
    result = importer(resource_class, file_format, path)
    seconds = time.perf_counter() - started
    growth_kb = read_status_kb("VmHWM") - baseline
    rows = Package.objects.count()
    if result.has_errors() or result.totals["new"] != rows:
        raise SystemExit(f"the import failed: {result.totals} ({rows} rows in the table)")
    return {
        "mode": mode,
        "format": file_format,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "growth_mb": round(growth_kb / 1024, 1),
    }


def _format(file_format: str):
    from import_export.formats import base_formats

    return getattr(base_formats, file_format.upper())(encoding="utf-8")


def _stream(resource_class, file_format, path, **kwargs):
    with open(path, "rb") as handle:
        return resource_class().import_from_stream(_format(file_format), handle, **kwargs)


def _import_data(resource_class, file_format, path, **kwargs):
    with open(path, encoding="utf-8") as handle:
        dataset = _format(file_format).create_dataset(handle.read())
    return resource_class().import_data(dataset, **kwargs)


# -- parent side ---------------------------------------------------------------------------------


def measure(mode: str, file_format: str, rows: int, upstream_python: str | None) -> dict:
    path = ensure_file(rows, file_format)
    template = ensure_database(0, quiet=True)  # the schema and the 20 repositories
    with tempfile.TemporaryDirectory(prefix="stream-import-bench-") as folder:
        db_path = Path(folder) / "db.sqlite3"
        shutil.copyfile(template, db_path)
        python, env = sys.executable, dict(os.environ)
        if mode == "upstream":
            python, env["IMPORT_EXPORT_BENCH_UPSTREAM"] = upstream_python, "1"
        command = [python, __file__, "--child", mode, file_format, str(path), str(db_path)]
        output = subprocess.run(
            command, check=True, capture_output=True, text=True, cwd=ROOT, env=env
        )
    return json.loads(output.stdout.strip().splitlines()[-1])


def summarise(results: list[dict]) -> list[str]:
    """The figures the streaming-import issue sets targets for."""
    notes = []
    by_key = {(r["mode"], r["format"], r["rows"]): r for r in results}
    for file_format in sorted({r["format"] for r in results}):
        streamed = streamed_cases(results, file_format)
        growth = flat_growth_note(file_format, streamed, target="; target <= 60 MB and <= x1.5")
        if growth is not None:
            notes.append(growth)
        for r in streamed:
            for other in ("batched", "upstream"):
                base = by_key.get((other, file_format, r["rows"]))
                if base:
                    notes.append(
                        f"{file_format} at {r['rows']:,} rows: stream {r['rows_per_s']:,} rows/s "
                        f"= {r['rows_per_s'] / base['rows_per_s']:.2f}x {other}; memory "
                        f"{r['growth_mb']} MB vs {base['growth_mb']} MB"
                    )
    return notes


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--formats", default="csv,json")
    parser.add_argument("--modes", default="stream,batched")
    parser.add_argument(
        "--classic-max", type=int, default=100_000, help="largest batched/upstream run"
    )
    parser.add_argument("--upstream-python", help="adds the 'upstream' mode (4.4.3's import_data)")
    args = parser.parse_args(argv)
    if args.child:
        mode, file_format, path, db = args.child
        print(json.dumps(run_child(mode, file_format, Path(path), Path(db))))
        return 0

    modes = args.modes.split(",")
    if args.upstream_python and "upstream" not in modes:
        modes.append("upstream")
    results = []
    for rows in [int(size) for size in args.sizes.split(",")]:
        for file_format in args.formats.split(","):
            for mode in modes:
                if mode != "stream" and rows > args.classic_max:
                    continue
                result = measure(mode, file_format, rows, args.upstream_python)
                print(json.dumps(result), file=sys.stderr, flush=True)
                results.append(result)
    print(format_table(results))
    print()
    for note in summarise(results):
        print("- " + note)
    return 0


assert len(HEADERS) == 14 and REPOSITORIES == 20

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
