#!/usr/bin/env python
"""Import edge and hostile values with upstream 4.4.3 and with this fork; print both outcomes.

For each case a two-row file (a good first row, then the value under test) is imported into an
emptied table of the test project with ``import_data()`` and default arguments, and the outcome
is classified the way a user meets it: ``imports`` (and whether reading the table back then
fails), ``validation error`` (the other rows are kept) or ``row error/rollback`` (nothing is
kept).  Upstream and the fork each run in a child process on their own database, so the table
shows, field type by field type, where the fork behaves as upstream and where it does not.

    python scripts/compare_import_outcomes.py --upstream-python /tmp/upstream-venv/bin/python
    python scripts/compare_import_outcomes.py ... --postgresql   # also on the PostgreSQL server
                                               # named by IMPORT_EXPORT_TEST_PG_* (see settings)

Upstream's package is taken from ``--upstream-python``'s installation; Django, tablib and the
database drivers of the interpreter running this script serve both children.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UUID_TEXT = "12345678-1234-5678-1234-567812345678"
PACKAGE = {"name": "n", "version": "1"}
CLEAN = {"clean_model_instances": True}

#: (model, column, value, Meta options, other columns)
CASES = [
    ("NullableTypes", "char", "x" * 20, None, None),
    ("NullableTypes", "char", "x" * 21, None, None),
    ("NullableTypes", "text", "y" * 5000, None, None),
    ("NullableTypes", "slug", "s" * 51, None, None),
    ("NullableTypes", "slug", "not a slug!", None, None),
    ("NullableTypes", "email", "e" * 250 + "@x.io", None, None),
    ("NullableTypes", "email", "not-an-email", None, None),
    ("NullableTypes", "url", "http://x/" + "u" * 200, None, None),
    ("NullableTypes", "uuid", UUID_TEXT, None, None),
    ("NullableTypes", "uuid", UUID_TEXT.replace("-", ""), None, None),
    ("NullableTypes", "uuid", "urn:uuid:" + UUID_TEXT, None, None),
    ("NullableTypes", "uuid", "not-a-uuid", None, None),
    ("NullableTypes", "uuid", "", None, None),
    ("NullableTypes", "file", "a/b.txt", None, None),
    ("NullableTypes", "file", "f" * 121, None, None),
    ("NullableTypes", "ip", "2001:0db8::0001", None, None),
    ("NullableTypes", "ip", "not an ip", None, None),
    ("NullableTypes", "ip", "", None, None),
    ("NullableTypes", "decimal", "12345.678", None, None),
    ("NullableTypes", "decimal", "1.2345", None, None),
    ("NullableTypes", "decimal", "123456.7", None, None),
    ("NullableTypes", "decimal", "99999.9999", None, None),
    ("NullableTypes", "decimal", "abc", None, None),
    ("NullableTypes", "decimal", "NaN", None, None),
    ("NullableTypes", "integer", "abc", None, None),
    ("NullableTypes", "integer", "nan", None, None),
    ("NullableTypes", "integer", "inf", None, None),
    ("NullableTypes", "integer", "abc", {"use_bulk": True}, None),
    ("NullableTypes", "small_int", "70000", None, None),
    ("NullableTypes", "floating", "abc", None, None),
    ("NullableTypes", "date", "2020-13-01", None, None),
    ("NullableTypes", "duration", "garbage", None, None),
    ("NullableTypes", "json", "{bad json", None, None),
    ("NullableTypes", "author", "424242", None, None),
    ("NullableTypes", "char", "x" * 21, CLEAN, None),
    ("NullableTypes", "decimal", "123456.7", CLEAN, None),
    ("NullableTypes", "ip", "not an ip", CLEAN, None),
    ("NullableTypes", "file", "f" * 121, CLEAN, None),
    ("PulpContent", "upstream_id", UUID_TEXT, None, None),
    ("PulpContent", "upstream_id", "", None, None),
    ("PulpPackage", "upstream_id", UUID_TEXT, None, PACKAGE),
    ("PulpPackage", "arch", "a" * 21, None, PACKAGE),
    ("PulpPackage", "server", "not an ip", None, PACKAGE),
]


def run_cases(implementation: str, database: str, db_name: str) -> list[dict]:
    """Child side: set Django up with one implementation and import every case."""
    if implementation == "upstream":
        sys.path.insert(0, os.environ["COMPARE_UPSTREAM_PACKAGE"])
    else:
        sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    os.environ.update(DJANGO_SETTINGS_MODULE="settings", IMPORT_EXPORT_TEST_DB=database)
    if database == "postgresql":
        os.environ["IMPORT_EXPORT_TEST_PG_NAME"] = db_name
    else:
        os.environ["IMPORT_EXPORT_TEST_SQLITE_NAME"] = db_name
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import import_export

    from_fork = os.path.realpath(import_export.__file__).startswith(str(ROOT))
    assert from_fork == (implementation == "fork"), import_export.__file__
    return [run_case(*case) for case in CASES]


def run_case(model_name, column, value, meta, extra) -> dict:
    import tablib
    from core import models

    from import_export.resources import modelresource_factory

    model = getattr(models, model_name)
    models.PulpContent.objects.all().delete()  # also the parent rows of packages
    model.objects.all().delete()
    options = dict(meta or {})
    key = "id"
    if model_name.startswith("Pulp"):
        key = "pulp_id"
        options["import_id_fields"] = [key]
    resource = modelresource_factory(model, meta_options=options)()
    extra = extra or {}
    dataset = tablib.Dataset(headers=[key, column, *extra])
    keys = ["1001", "1002"] if key == "id" else [str(uuid.UUID(int=n)) for n in (1001, 1002)]
    dataset.append([keys[0], None, *extra.values()])
    dataset.append([keys[1], value, *extra.values()])
    try:
        result = resource.import_data(dataset)
    except Exception as error:  # the outcome itself, reported rather than raised
        return {"outcome": f"raises {type(error).__name__}"}
    if result.has_errors():
        outcome = "row error/rollback"
    elif result.has_validation_errors():
        outcome = "validation error"
    else:
        outcome = "imports"
        try:
            list(model.objects.values_list(column))
        except Exception:
            outcome = "imports (later reads fail)"
    return {"outcome": outcome}


def describe(case) -> str:
    model_name, column, value, meta, _ = case
    shown = repr(value) if len(repr(value)) <= 24 else f"{repr(value)[:12]}... ({len(value)})"
    options = f" {meta}" if meta else ""
    return f"{model_name}.{column} = {shown}{options}"


def upstream_package_dir(upstream_python: str, folder: Path) -> Path:
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


def pg_admin(statement: str) -> None:
    """Run one statement on the server's ``postgres`` database (to create or drop ours)."""
    import psycopg

    dsn = (
        f"host={os.environ.get('IMPORT_EXPORT_TEST_PG_HOST', '127.0.0.1')} "
        f"port={os.environ.get('IMPORT_EXPORT_TEST_PG_PORT', '5432')} "
        f"user={os.environ.get('IMPORT_EXPORT_TEST_PG_USER', 'postgres')} dbname=postgres"
    )
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(statement)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream-python", required=True)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_cases(*args.child)))
        return

    databases = ["sqlite"] + (["postgresql"] if args.postgresql else [])
    columns = {}
    with tempfile.TemporaryDirectory(prefix="compare-outcomes-") as folder:
        folder = Path(folder)
        env = dict(
            os.environ,
            COMPARE_UPSTREAM_PACKAGE=str(upstream_package_dir(args.upstream_python, folder)),
        )
        for database in databases:
            for implementation in ("upstream", "fork"):
                if database == "postgresql":
                    db_name = f"compare_outcomes_{implementation}_{os.getpid()}"
                    pg_admin(f'CREATE DATABASE "{db_name}"')
                else:
                    db_name = str(folder / f"{implementation}.sqlite3")
                command = [sys.executable, __file__, "--upstream-python", args.upstream_python]
                try:
                    output = subprocess.run(
                        [*command, "--child", implementation, database, db_name],
                        check=True,
                        capture_output=True,
                        text=True,
                        env=env,
                    ).stdout
                finally:
                    if database == "postgresql":
                        pg_admin(f'DROP DATABASE IF EXISTS "{db_name}"')
                columns[f"{implementation} {database}"] = json.loads(
                    output.strip().splitlines()[-1]
                )
    names = list(columns)
    print("| value | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for index, case in enumerate(CASES):
        cells = [columns[name][index]["outcome"] for name in names]
        print(f"| `{describe(case)}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
