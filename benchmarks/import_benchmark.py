#!/usr/bin/env python
"""Import benchmark: rows/s, peak memory growth and SQL statements of ``import_data``.

Every case imports the ``Package`` resource's own export (14 columns, the repository foreign key
by name) as a dry run, the way the admin's preview and pulpcore's importer call it:

* ``target``: ``update`` re-imports the rows into the database they came from (every row is an
  existing record); ``new`` imports them into a database holding only the repositories;
* ``mode``: ``default`` (``import_data`` as configured by the resource) or ``bulk``
  (``use_bulk`` + ``skip_diff``, upstream's recommended bulk set-up);
* ``engine``: ``fork`` (this checkout) or ``upstream`` (an installed django-import-export,
  with ``--upstream-python``).

Each case runs in a fresh child process, ``DEBUG=False``.  The file is parsed before the
measurement starts; the figures cover ``import_data`` alone, with its ``Result`` still alive.
SQL statements are counted with a connection execute wrapper and split into reads
(``SELECT``), writes (``INSERT``/``UPDATE``/``DELETE``) and savepoint statements.

    python benchmarks/import_benchmark.py --upstream-python /tmp/upstream-venv/bin/python
    python benchmarks/import_benchmark.py --sizes 10000 --formats json --targets new
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

UPSTREAM_CHILD = os.environ.get("IMPORT_EXPORT_BENCH_UPSTREAM") == "1"
if UPSTREAM_CHILD:
    sys.path.append(str(Path(__file__).resolve().parent.parent))
else:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    DEFAULT_CACHE,
    ROOT,
    ensure_database,
    read_status_kb,
    reset_peak,
)

WARM_UP_ROWS = 200


# -- child side ---------------------------------------------------------------------------------


class StatementCounter:
    """Counts the SQL statements a connection runs, by kind (no query log is kept)."""

    def __init__(self) -> None:
        self.counts = {"read": 0, "write": 0, "savepoint": 0, "other": 0}

    def __call__(self, execute, sql, params, many, context):
        self.counts[self._kind(sql)] += 1
        return execute(sql, params, many, context)

    @staticmethod
    def _kind(sql: str) -> str:
        verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if verb == "SELECT":
            return "read"
        if verb in ("INSERT", "UPDATE", "DELETE"):
            return "write"
        if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
            return "savepoint"
        return "other"


def _resource_class(mode: str):
    from core.resources import PackageResource

    if mode == "default":
        return PackageResource

    class BulkPackageResource(PackageResource):
        class Meta(PackageResource.Meta):
            use_bulk = True
            skip_diff = True

    return BulkPackageResource


def _load_dataset(path: Path, file_format: str):
    from import_export.formats import base_formats

    text = path.read_text(encoding="utf-8")
    return getattr(base_formats, file_format.upper())().create_dataset(text)


def run_child(mode: str, file_format: str, db_path: Path, data_path: Path) -> dict:
    from benchmarks.common import setup_django

    setup_django(db_path, prefer_installed=UPSTREAM_CHILD)
    from django.db import connection

    resource_class = _resource_class(mode)
    dataset = _load_dataset(data_path, file_format)
    warm_up = dataset.subset(rows=list(range(min(WARM_UP_ROWS, len(dataset)))))
    resource_class().import_data(warm_up, dry_run=True)

    counter = StatementCounter()
    baseline = reset_peak()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = resource_class().import_data(dataset, dry_run=True)
    seconds = time.perf_counter() - started
    growth_kb = read_status_kb("VmHWM") - baseline
    rows = len(dataset)
    if result.has_errors() or result.has_validation_errors():
        raise SystemExit(f"the import reported errors: {result.error_messages()[:3]}")
    per_thousand = {kind: round(n * 1000 / rows, 1) for kind, n in counter.counts.items()}
    return {
        "mode": mode,
        "format": file_format,
        "rows": rows,
        "totals": {k: v for k, v in result.totals.items() if v},
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds) if seconds else None,
        "growth_mb": round(growth_kb / 1024, 1),
        "per_1000": per_thousand,
    }


def export_file(file_format: str, db_path: Path, data_path: Path) -> None:
    """Write the Package resource's export of ``db_path`` to ``data_path`` (this fork's stream)."""
    from benchmarks.common import setup_django

    setup_django(db_path)
    from core.models import Package
    from core.resources import PackageResource

    partial = data_path.with_suffix(".partial")
    with open(partial, "wb") as sink:
        PackageResource().export_to_stream(file_format, sink, Package.objects.order_by("pk"))
    partial.rename(data_path)


# -- parent side --------------------------------------------------------------------------------


def _run(args: list[str], upstream_python: str | None = None) -> str:
    python, env = sys.executable, dict(os.environ)
    if upstream_python:
        python, env["IMPORT_EXPORT_BENCH_UPSTREAM"] = upstream_python, "1"
    output = subprocess.run(
        [python, __file__, *args], check=True, capture_output=True, text=True, cwd=ROOT, env=env
    )
    return output.stdout


def ensure_export(rows: int, file_format: str) -> Path:
    path = DEFAULT_CACHE / f"packages-{rows}.{file_format}"
    if not path.exists():
        _run(["--export", file_format, str(ensure_database(rows)), str(path)])
    return path


def measure(engine, target, mode, file_format, rows, upstream_python) -> dict:
    data_path = ensure_export(rows, file_format)
    # The "new" target: the same schema and repositories, no packages (database of 0 rows).
    db_path = ensure_database(rows if target == "update" else 0)
    stdout = _run(
        ["--child", mode, file_format, str(db_path), str(data_path)],
        upstream_python if engine == "upstream" else None,
    )
    result = json.loads(stdout.strip().splitlines()[-1])
    result.update({"engine": engine, "target": target})
    return result


def format_table(results: list[dict]) -> str:
    lines = [
        "| rows | format | target | mode | engine | rows/s | peak growth (MB) "
        "| reads / 1k rows | writes / 1k rows | savepoint stmts / 1k rows |",
        "|---:|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        q = r["per_1000"]
        lines.append(
            f"| {r['rows']:,} | {r['format']} | {r['target']} | {r['mode']} | {r['engine']} "
            f"| {r['rows_per_s']:,} | {r['growth_mb']} | {q['read']} | {q['write']} "
            f"| {q['savepoint']} |"
        )
    return "\n".join(lines)


def format_rst(results: list[dict], notes: list[str]) -> str:
    """The same table as reStructuredText (for ``docs/import_benchmark_table.rst``)."""
    header = [
        "rows",
        "format",
        "target",
        "mode",
        "engine",
        "rows/s",
        "peak growth (MB)",
        "reads / 1k rows",
        "writes / 1k rows",
        "savepoint stmts / 1k rows",
    ]
    lines = [".. list-table::", "   :header-rows: 1", ""]
    rows = [header] + [
        [
            f"{r['rows']:,}",
            r["format"],
            r["target"],
            r["mode"],
            r["engine"],
            f"{r['rows_per_s']:,}",
            str(r["growth_mb"]),
            str(r["per_1000"]["read"]),
            str(r["per_1000"]["write"]),
            str(r["per_1000"]["savepoint"]),
        ]
        for r in results
    ]
    for row in rows:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    lines.append("")
    lines.extend(f"* {note}" for note in notes)
    return "\n".join(lines) + "\n"


def summarise(results: list[dict]) -> list[str]:
    """The fork against upstream, case by case, next to the issue's targets."""
    notes = []
    by_key = {(r["engine"], r["target"], r["mode"], r["format"], r["rows"]): r for r in results}
    for (engine, target, mode, file_format, rows), fork in by_key.items():
        if engine != "fork":
            continue
        upstream = by_key.get(("upstream", target, mode, file_format, rows))
        parts = [
            f"reads {fork['per_1000']['read']}/1k rows (target <= 5)",
            f"writes {fork['per_1000']['write'] / 1000:.2f}/row",
        ]
        if upstream:
            speed = fork["rows_per_s"] / upstream["rows_per_s"]
            goal = 4 if mode == "default" else 8
            memory = fork["growth_mb"] / max(upstream["growth_mb"], 0.1)
            parts.insert(0, f"{speed:.1f}x upstream rows/s (target >= {goal}x)")
            parts.insert(1, f"memory growth {memory:.2f} of upstream's")
        notes.append(f"{rows:,} {file_format} {target} {mode}: " + ", ".join(parts))
    return notes


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--export", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--formats", default="csv,json")
    parser.add_argument("--modes", default="default,bulk")
    parser.add_argument("--targets", default="new,update")
    parser.add_argument("--rst", help="also write the table as reStructuredText to this file")
    parser.add_argument(
        "--results",
        help="read the JSON lines of an earlier run (its stderr) instead of running the cases",
    )
    parser.add_argument(
        "--upstream-python",
        help="python of a virtualenv with upstream django-import-export installed: adds the "
        "'upstream' engine (the same cases on upstream's import_data)",
    )
    args = parser.parse_args(argv)
    if args.child:
        mode, file_format, db, data = args.child
        print(json.dumps(run_child(mode, file_format, Path(db), Path(data))))
        return 0
    if args.export:
        file_format, db, data = args.export
        export_file(file_format, Path(db), Path(data))
        return 0

    if args.results:
        results = [json.loads(line) for line in open(args.results) if line.startswith("{")]
    else:
        results = run_cases(args)
    print(format_table(results))
    print()
    notes = summarise(results)
    for note in notes:
        print("- " + note)
    if args.rst:
        Path(args.rst).write_text(format_rst(results, notes), encoding="utf-8")
    return 0


def run_cases(args) -> list[dict]:
    engines = ["fork"] + (["upstream"] if args.upstream_python else [])
    results = []
    for rows in [int(s) for s in args.sizes.split(",")]:
        for file_format in args.formats.split(","):
            for target in args.targets.split(","):
                for mode in args.modes.split(","):
                    for engine in engines:
                        r = measure(engine, target, mode, file_format, rows, args.upstream_python)
                        print(json.dumps(r), file=sys.stderr, flush=True)
                        results.append(r)
    return results


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
