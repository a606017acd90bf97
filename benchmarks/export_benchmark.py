#!/usr/bin/env python
"""Export benchmark: peak memory growth and rows/s of three ways to export the same rows.

* ``stream``  — ``PackageResource().export_to_stream(format, file)`` (this fork's streaming path,
  which reads these plain columns with ``values_list()``);
* ``stream_instances`` — the same with a dehydrate method, which needs model instances;
* ``classic`` — ``format.export_data(PackageResource().export())`` (upstream's path: a Dataset,
  then one string);
* ``floor``   — ``values_list()`` written row by row with the csv/json modules or openpyxl: what
  the database and the format libraries cost with no resource layer at all.

Each scenario runs in a fresh child process on a pulpcore-shaped SQLite database (13 columns,
wide text, a foreign key rendered by name), created once per size under
``$IMPORT_EXPORT_BENCH_DIR`` (default ``/tmp/import-export-bench``).  Output goes to
``/dev/null``, so what is measured is reading, rendering and encoding.

    python benchmarks/export_benchmark.py                       # 10k, 100k, 1M rows
    python benchmarks/export_benchmark.py --sizes 10000,40000 --formats json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

# In an ``upstream`` child the installed django-import-export must win over this checkout.
UPSTREAM_CHILD = os.environ.get("IMPORT_EXPORT_BENCH_UPSTREAM") == "1"
if UPSTREAM_CHILD:
    sys.path.append(str(Path(__file__).resolve().parent.parent))
else:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    ROOT,
    ensure_database,
    flat_growth_note,
    format_table,
    read_status_kb,
    reset_peak,
    streamed_cases,
)

WARM_UP_ROWS = 200


def floor_columns() -> tuple[str, ...]:
    """The resource's columns as ``values_list()`` paths (the repository by its name, as the
    resource renders it), so the floor reads exactly what the resource exports."""
    from core.resources import PackageResource

    return tuple(
        "repository__name" if name == "repository" else name for name in PackageResource.Meta.fields
    )


# -- child side ---------------------------------------------------------------------------------


def run_child(mode: str, file_format: str, db_path: Path) -> dict:
    from benchmarks.common import setup_django

    setup_django(db_path, prefer_installed=UPSTREAM_CHILD)
    from core.models import Package
    from core.resources import PackageResource

    exporters = {
        "stream": _stream,
        "stream_instances": _stream_instances,
        "classic": _classic,
        "floor": _floor,
        "upstream": _classic,
    }
    queryset = Package.objects.order_by("pk")
    # Warm up on a few rows first, so that importing the format libraries and Django's first
    # query are not counted as growth caused by the size of the export.
    with open(os.devnull, "wb") as sink:
        exporters[mode](PackageResource(), queryset[:WARM_UP_ROWS], file_format, sink)
    baseline = reset_peak()
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        rows = exporters[mode](PackageResource(), queryset, file_format, sink)
    seconds = time.perf_counter() - started
    growth_kb = read_status_kb("VmHWM") - baseline
    return {
        "mode": mode,
        "format": file_format,
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds) if seconds else None,
        "growth_mb": round(growth_kb / 1024, 1),
    }


def _stream(resource, queryset, file_format, sink) -> int:
    return resource.export_to_stream(file_format, sink, queryset)


def _stream_instances(resource, queryset, file_format, sink) -> int:
    """The streaming path when a dehydrate method needs model instances (select_related)."""
    from core.resources import PackageResource

    class DehydratingPackageResource(PackageResource):
        def dehydrate_summary(self, package):
            return package.summary

    return DehydratingPackageResource().export_to_stream(file_format, sink, queryset)


def _classic(resource, queryset, file_format, sink) -> int:
    from import_export.formats import base_formats

    dataset = resource.export(queryset)
    data = getattr(base_formats, file_format.upper())().export_data(dataset)
    sink.write(data.encode("utf-8") if isinstance(data, str) else data)
    return len(dataset)


def _floor(resource, queryset, file_format, sink) -> int:
    columns = floor_columns()
    rows = queryset.values_list(*columns).iterator(chunk_size=2000)
    writers = {"json": _floor_json, "csv": _floor_csv, "xlsx": _floor_xlsx}
    return writers[file_format](columns, rows, sink)


def _floor_json(columns, rows, sink) -> int:
    count = 0
    sink.write(b"[")
    for row in rows:
        prefix = b", " if count else b""
        sink.write(prefix + json.dumps(dict(zip(columns, row))).encode())
        count += 1
    sink.write(b"]")
    return count


def _floor_csv(columns, rows, sink) -> int:
    import csv
    import io

    text = io.TextIOWrapper(sink, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    text.flush()
    text.detach()
    return count


def _floor_xlsx(columns, rows, sink) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(columns)
    count = 0
    for row in rows:
        sheet.append(row)
        count += 1
    workbook.save(sink)
    return count


# -- parent side --------------------------------------------------------------------------------


def measure(mode: str, file_format: str, rows: int, upstream_python: str | None = None) -> dict:
    db_path = ensure_database(rows)
    python, env = sys.executable, dict(os.environ)
    if mode == "upstream":
        python, env["IMPORT_EXPORT_BENCH_UPSTREAM"] = upstream_python, "1"
    command = [python, __file__, "--child", mode, file_format, str(db_path)]
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT, env=env)
    return json.loads(output.stdout.strip().splitlines()[-1])


def summarise(results: list[dict]) -> list[str]:
    """Check the figures against the targets of the streaming issue."""
    notes = []
    by_key = {(r["mode"], r["format"], r["rows"]): r for r in results}
    for file_format in sorted({r["format"] for r in results}):
        streamed = streamed_cases(results, file_format)
        growth = flat_growth_note(file_format, streamed)
        if growth is not None:
            notes.append(growth)
        for r in streamed:
            classic = by_key.get(("classic", file_format, r["rows"]))
            upstream = by_key.get(("upstream", file_format, r["rows"]))
            floor = by_key.get(("floor", file_format, r["rows"]))
            parts = []
            if classic:
                parts.append(f"{r['rows_per_s'] / classic['rows_per_s']:.1f}x classic")
            if upstream:
                parts.append(f"{r['rows_per_s'] / upstream['rows_per_s']:.1f}x upstream 4.4.3")
            if floor:
                parts.append(f"{r['rows_per_s'] / floor['rows_per_s']:.2f} of the floor")
            if parts:
                notes.append(f"{file_format} at {r['rows']:,} rows: stream is " + ", ".join(parts))
    return notes


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--child", nargs=3, metavar=("MODE", "FORMAT", "DB"), help=argparse.SUPPRESS
    )
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--formats", default="json,csv,xlsx")
    parser.add_argument("--modes", default="stream,floor,classic")
    parser.add_argument("--classic-max", type=int, default=300_000, help="largest classic run")
    parser.add_argument(
        "--upstream-python",
        help="python of a virtualenv with upstream django-import-export installed: adds the "
        "'upstream' mode (upstream's classic export of the same resource, for comparison)",
    )
    args = parser.parse_args(argv)
    if args.child:
        mode, file_format, db = args.child
        print(json.dumps(run_child(mode, file_format, Path(db))))
        return 0

    sizes = [int(s) for s in args.sizes.split(",")]
    modes = args.modes.split(",")
    if args.upstream_python and "upstream" not in modes:
        modes.append("upstream")
    results = []
    for rows in sizes:
        for file_format in args.formats.split(","):
            for mode in modes:
                if mode in ("classic", "upstream") and rows > args.classic_max:
                    continue
                result = measure(mode, file_format, rows, args.upstream_python)
                print(json.dumps(result), file=sys.stderr, flush=True)
                results.append(result)
    print(format_table(results))
    print()
    for note in summarise(results):
        print("- " + note)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
