#!/usr/bin/env python
"""What checking field constraints costs an import: rows/s of the same import four ways.

* ``fork``            — ``import_data()`` as it ships: the field-constraint checks of
  :mod:`import_export.field_constraints` run for every row (built once per import);
* ``fork_no_checks``  — the same with the checks replaced by an empty set: the floor the checks
  add to;
* ``fork_full_clean`` — ``clean_model_instances = True``: Django's ``full_clean()`` per row, the
  expensive way to get the same protection;
* ``upstream``        — django-import-export 4.4.3 (given with ``--upstream-python``), which
  checks nothing.

Each scenario imports the same rows of ``NullableTypes`` (every field type, text, decimals,
UUIDs and IP addresses filled) into an emptied SQLite database, in a fresh child process with
``DEBUG=False``, the database file in ``/dev/shm`` where there is one (disk syncs would
otherwise dominate); the dataset is built before the clock starts.  Compare the figures of one run
with each other, not with another machine's.

    python benchmarks/constraints_benchmark.py --rows 5000 \\
        --upstream-python /tmp/upstream-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM_PACKAGE = os.environ.get("IMPORT_EXPORT_BENCH_UPSTREAM_PACKAGE")
MODES = ("fork", "fork_no_checks", "fork_full_clean", "upstream")


def build_dataset(rows: int):
    import datetime
    import uuid
    from decimal import Decimal

    import tablib

    headers = ["id", "char", "text", "integer", "decimal", "date", "email", "slug", "url"]
    headers += ["uuid", "file", "ip"]
    dataset = tablib.Dataset(headers=headers)
    for i in range(rows):
        dataset.append(
            [
                "",
                f"name {i % 997}",
                "some longer text " * 4,
                str(i),
                str(Decimal(i % 99999) + Decimal("0.125")),
                (datetime.date(2020, 1, 1) + datetime.timedelta(days=i % 900)).isoformat(),
                f"user{i}@example.com",
                f"slug-{i}",
                f"https://example.com/{i}",
                str(uuid.UUID(int=i)),
                f"artifact/{i:08x}.rpm",
                f"10.0.{i // 256 % 256}.{i % 256}",
            ]
        )
    return dataset


def run_child(mode: str, rows: int, db_path: Path) -> dict:
    """Import ``rows`` rows in this (fresh) process and return the timing."""
    os.environ["IMPORT_EXPORT_TEST_DB"] = "sqlite"
    os.environ["IMPORT_EXPORT_TEST_SQLITE_NAME"] = str(db_path)
    os.environ["DJANGO_SETTINGS_MODULE"] = "settings"
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, UPSTREAM_PACKAGE if mode == "upstream" else str(ROOT))
    import django

    django.setup()
    from core.models import NullableTypes

    import import_export
    from import_export import resources

    if mode == "upstream":
        assert str(ROOT) not in os.path.realpath(import_export.__file__), import_export.__file__
    else:
        assert os.path.realpath(import_export.__file__).startswith(str(ROOT)), (
            import_export.__file__
        )
    if mode == "fork_no_checks":
        from import_export import field_constraints

        resources.ModelResource._field_constraints = lambda self: (
            field_constraints.FieldConstraints(())
        )
    meta = {"clean_model_instances": True} if mode == "fork_full_clean" else {}
    resource_class = resources.modelresource_factory(NullableTypes, meta_options=meta)
    dataset = build_dataset(rows)
    resource_class().import_data(build_dataset(50), dry_run=True)  # warm-up, rolled back
    started = time.perf_counter()
    result = resource_class().import_data(dataset)
    elapsed = time.perf_counter() - started
    assert not result.has_errors() and not result.has_validation_errors(), mode
    assert NullableTypes.objects.count() == rows
    return {"mode": mode, "rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed}


def run_micro(rows: int, db_path: Path) -> dict:
    """Per-row cost of the checks alone, against ``full_clean()`` on the same instances.

    Both are timed on the same unsaved instances in one process, one after the other, so the
    ratio holds even on a busy machine where whole-import timings are noisy.
    """
    os.environ["IMPORT_EXPORT_TEST_DB"] = "sqlite"
    os.environ["IMPORT_EXPORT_TEST_SQLITE_NAME"] = str(db_path)
    os.environ["DJANGO_SETTINGS_MODULE"] = "settings"
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]
    import django

    django.setup()
    from core.models import NullableTypes

    from import_export import resources

    resource = resources.modelresource_factory(NullableTypes)()
    dataset = build_dataset(rows)
    instances = []
    for values in dataset:
        instance = NullableTypes()
        resource.import_instance(instance, dict(zip(dataset.headers, values)))
        instances.append(instance)

    def checks() -> None:
        constraints = resource._field_constraints()
        for instance in instances:
            constraints.normalise_empty(instance)
            constraints.validation_errors(instance)
            constraints.check_storable(instance)

    def full_clean() -> None:
        for instance in instances:
            instance.full_clean(validate_unique=False)

    timings = {}
    for name, work in (("checks", checks), ("full_clean", full_clean)):
        best = None
        for _ in range(3):
            started = time.perf_counter()
            work()
            elapsed = time.perf_counter() - started
            best = elapsed if best is None else min(best, elapsed)
        timings[name] = best / rows * 1e6
    return {"micro_us_per_row": timings}


def migrated_database(folder: Path) -> Path:
    path = folder / "template.sqlite3"
    code = (
        "import os, sys; sys.path[:0] = [sys.argv[1] + '/tests', sys.argv[1]];"
        "os.environ.update(IMPORT_EXPORT_TEST_DB='sqlite',"
        " IMPORT_EXPORT_TEST_SQLITE_NAME=sys.argv[2], DJANGO_SETTINGS_MODULE='settings');"
        "import django; django.setup();"
        "from django.core.management import call_command; call_command('migrate', verbosity=0)"
    )
    subprocess.run([sys.executable, "-c", code, str(ROOT), str(path)], check=True)
    return path


def upstream_package_dir(upstream_python: str, folder: Path) -> Path:
    """A folder holding only upstream's ``import_export`` (so the test project's ``core``
    and this interpreter's Django and tablib are used by every scenario)."""
    location = subprocess.run(
        [
            upstream_python,
            "-I",  # isolated: the current directory (maybe this checkout) is not on the path
            "-c",
            "import import_export, os; print(os.path.dirname(import_export.__file__))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    target = folder / "upstream"
    target.mkdir()
    (target / "import_export").symlink_to(location)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode; the best is shown")
    parser.add_argument("--upstream-python", help="an interpreter with upstream 4.4.3 installed")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "micro":
        print(json.dumps(run_micro(args.rows, Path(args.db))))
        return
    if args.child:
        print(json.dumps(run_child(args.child, args.rows, Path(args.db))))
        return

    modes = [m for m in MODES if m != "upstream" or args.upstream_python]
    # In memory-backed storage when there is one: disk syncs would drown what is measured.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(prefix="constraints-bench-", dir=shm) as folder:
        folder = Path(folder)
        template = migrated_database(folder)
        env = dict(os.environ)
        if args.upstream_python:
            env["IMPORT_EXPORT_BENCH_UPSTREAM_PACKAGE"] = str(
                upstream_package_dir(args.upstream_python, folder)
            )
        best: dict[str, dict] = {}
        for _ in range(args.repeat):
            for mode in modes:
                db = folder / f"{mode}.sqlite3"
                shutil.copy(template, db)
                command = [sys.executable, __file__, "--child", mode, "--rows", str(args.rows)]
                output = subprocess.run(
                    [*command, "--db", str(db)], check=True, capture_output=True, text=True, env=env
                ).stdout
                figures = json.loads(output.strip().splitlines()[-1])
                if mode not in best or figures["seconds"] < best[mode]["seconds"]:
                    best[mode] = figures
        command = [sys.executable, __file__, "--child", "micro", "--rows", str(args.rows)]
        output = subprocess.run(
            [*command, "--db", str(template)], check=True, capture_output=True, text=True, env=env
        ).stdout
        micro = json.loads(output.strip().splitlines()[-1])["micro_us_per_row"]
    floor = best["fork_no_checks"]["seconds"]
    print(f"{args.rows} rows of NullableTypes, SQLite, best of {args.repeat} runs per mode")
    print(f"{'mode':<18}{'seconds':>10}{'rows/s':>10}{'vs no checks':>14}")
    for mode in modes:
        figures = best[mode]
        ratio = figures["seconds"] / floor
        print(f"{mode:<18}{figures['seconds']:>10.2f}{figures['rows_per_s']:>10.0f}{ratio:>13.2f}x")
    per_row = best["fork"]["seconds"] / args.rows * 1e6
    print(
        f"per row: checks {micro['checks']:.1f} us, full_clean() {micro['full_clean']:.1f} us "
        f"(same instances, same process); a whole imported row {per_row:.0f} us"
    )


if __name__ == "__main__":
    main()
