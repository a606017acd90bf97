"""Helpers for ``scripts/upstream_compat.sh``: count one module's test results, print the table.

Why a Django test runner of our own: the plain runner only prints a human summary, and parsing
that text breaks on every wording change.  ``CountingRunner`` writes the counts of the run to
the JSON file named by ``COMPAT_RESULT_FILE``, and the ``summarize`` command turns those files
into one table.  A module whose JSON file is missing (the process crashed, a system check
failed, the run timed out) is reported with all of its tests as errors, using a count taken by
reading the module's source, so a broken module is never silently left out of the total.

With ``--postgresql`` the script also uses ``pg-check`` (connect once before any module runs)
and ``pg-drop`` (remove the run's test database at the end, should a module have left it).

This file is used by the compatibility script only; it is not part of the package.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

try:  # Only the runner half needs Django; ``summarize`` runs without it.
    from django.test.runner import DiscoverRunner
except ImportError:  # pragma: no cover - depends on the interpreter running the summary
    DiscoverRunner = object  # type: ignore[assignment,misc]


def _test_id(test: object) -> str:
    """A stable name for a failed test; subtests of one test collapse into that test."""
    test_case = getattr(test, "test_case", None)  # unittest's _SubTest wraps the real test
    return str(getattr(test_case or test, "id", lambda: repr(test))())


def _is_import_failure(test: object) -> bool:
    """unittest stands a ``_FailedTest`` in for a module it could not import."""
    return type(test).__name__ == "_FailedTest"


class CountingRunner(DiscoverRunner):  # type: ignore[misc,valid-type]
    """Django's runner, plus a JSON record of how the run went."""

    def suite_result(self, suite, result, **kwargs):  # noqa: ANN001 - Django's signature
        self._write_counts(result)
        return super().suite_result(suite, result, **kwargs)

    @staticmethod
    def _write_counts(result) -> None:  # noqa: ANN001
        target = os.environ.get("COMPAT_RESULT_FILE")
        if not target:
            return
        failed = {_test_id(test) for test, _ in result.failures}
        errors = {_test_id(test) for test, _ in result.errors}
        record = {
            "run": result.testsRun,
            "failed": sorted(failed - errors),
            "errors": sorted(errors),
            "skipped": len(result.skipped),
            "expected_failures": len(result.expectedFailures),
            "unexpected_successes": len(result.unexpectedSuccesses),
            "import_failed": any(_is_import_failure(test) for test, _ in result.errors),
        }
        Path(target).write_text(json.dumps(record, indent=1), encoding="utf-8")


def count_tests_in_source(path: Path) -> int:
    """Count ``test*`` methods defined in the module's classes, without importing it.

    Used only when the module could not be run; inherited tests are not seen, so the count
    is a lower bound.
    """
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return 1
    count = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            count += sum(
                1
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and item.name.startswith("test")
            )
    return max(count, 1)


@dataclass
class Row:
    module: str
    run: int
    passed: int
    failed: int
    errors: int
    skipped: int
    note: str = ""


def _row_from_record(module: str, record: dict) -> Row:
    failed = len(record["failed"])
    errors = len(record["errors"])
    skipped = record["skipped"] + record["expected_failures"]
    not_passed = failed + errors + skipped + record["unexpected_successes"]
    note = "import failed" if record["import_failed"] else ""
    return Row(
        module, record["run"], max(record["run"] - not_passed, 0), failed, errors, skipped, note
    )


def _row_for_crash(module: str, source: Path, log: Path) -> Row:
    expected = count_tests_in_source(source)
    reason = "did not run"
    if log.exists():
        tail = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        if tail:
            reason = tail[-1].strip()[:60]
    return Row(module, expected, 0, 0, expected, 0, f"crashed: {reason}")


def build_rows(work: Path, modules: list[tuple[str, Path]]) -> list[Row]:
    rows = []
    for label, source in modules:
        result_file = work / "results" / f"{label}.json"
        if result_file.exists():
            record = json.loads(result_file.read_text(encoding="utf-8"))
            rows.append(_row_from_record(label, record))
        else:
            rows.append(_row_for_crash(label, source, work / "logs" / f"{label}.log"))
    return rows


def format_table(rows: list[Row]) -> str:
    total = Row(
        "TOTAL",
        sum(r.run for r in rows),
        sum(r.passed for r in rows),
        sum(r.failed for r in rows),
        sum(r.errors for r in rows),
        sum(r.skipped for r in rows),
        f"{sum(1 for r in rows if r.note)} module(s) did not import or run" if rows else "",
    )
    headers = ("module", "run", "passed", "failed", "errors", "skipped", "note")
    width = max([len(headers[0])] + [len(r.module) for r in rows] + [len(total.module)])

    def line(values: tuple) -> str:
        name, *numbers, note = values
        cells = "".join(f"{value:>8}" for value in numbers)
        return f"{name:<{width}}{cells}  {note}".rstrip()

    def as_tuple(row: Row) -> tuple:
        return (row.module, row.run, row.passed, row.failed, row.errors, row.skipped, row.note)

    rule = "-" * (width + 8 * 5 + 2)
    body = [line(headers), rule, *(line(as_tuple(r)) for r in rows), rule, line(as_tuple(total))]
    return "\n".join(body)


def failing_tests(work: Path, labels: list[str]) -> list[str]:
    """``FAIL``/``ERROR`` lines naming each test that did not pass, module by module."""
    lines = []
    for label in labels:
        result_file = work / "results" / f"{label}.json"
        if not result_file.exists():
            continue
        record = json.loads(result_file.read_text(encoding="utf-8"))
        lines += [f"FAIL  {name}" for name in record["failed"]]
        lines += [f"ERROR {name}" for name in record["errors"]]
    return lines


def summarize(work: Path, tests_dir: Path, labels: list[str]) -> int:
    """Print the table for ``labels`` (dotted module names relative to ``tests_dir``).

    With ``COMPAT_LIST_FAILURES=1`` in the environment, the failing tests are listed after it.
    """
    modules = [
        (label, tests_dir.joinpath(*label.split(".")).with_suffix(".py")) for label in labels
    ]
    print(format_table(build_rows(work, modules)))
    if os.environ.get("COMPAT_LIST_FAILURES") == "1":
        print()
        print("\n".join(failing_tests(work, labels)) or "no failing tests")
    return 0


def _postgres_server() -> tuple[dict, str]:
    """Connection arguments for the maintenance database, and the test database's name.

    Read from the Django settings in ``DJANGO_SETTINGS_MODULE`` (the ``--postgresql`` shim),
    so the check and the clean-up address exactly the server and name the test runs use.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    server = {
        "host": database["HOST"],
        "port": database["PORT"] or None,
        "user": database["USER"] or None,
        "password": database["PASSWORD"] or None,
        "dbname": "postgres",  # Django creates and drops its test database from here too
    }
    return server, database["TEST"]["NAME"]


def postgres_check() -> int:
    """Connect once before any module runs: a wrong host or port is a set-up error, not 700."""
    import psycopg

    server, test_name = _postgres_server()
    try:
        with psycopg.connect(connect_timeout=10, **server) as connection:
            version = connection.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error as error:
        print(f"error: cannot connect to PostgreSQL ({server['host']}:{server['port']}): {error}")
        return 1
    print(
        f"PostgreSQL {version} at {server['host']}:{server['port']} as {server['user']}, "
        f"test database {test_name}"
    )
    return 0


def postgres_drop_test_database() -> int:
    """Drop the run's test database if a module left it behind (killed by the time limit)."""
    import psycopg
    from psycopg import sql

    server, test_name = _postgres_server()
    with psycopg.connect(connect_timeout=10, autocommit=True, **server) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(test_name)))
    return 0


USAGE = """usage: upstream_compat_runner.py summarize WORK_DIR TESTS_DIR LABEL...
       upstream_compat_runner.py pg-check | pg-drop   (settings from DJANGO_SETTINGS_MODULE)"""


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "summarize" and len(sys.argv) >= 4:
        sys.exit(summarize(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4:]))
    if command == "pg-check" and len(sys.argv) == 2:
        sys.exit(postgres_check())
    if command == "pg-drop" and len(sys.argv) == 2:
        sys.exit(postgres_drop_test_database())
    sys.exit(USAGE)
