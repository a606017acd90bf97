#!/usr/bin/env python
"""Run the test suite: the pytest suite against the test project in ``tests/``.

Why a script: it is the one command CI, ``make test`` and tox share, so they cannot drift apart.
The suite imports the package installed in the interpreter, not the source tree (``make test``
installs it as a wheel would first, so package data missing from ``setup.cfg`` fails the
suite).  It runs on SQLite; when ``IMPORT_EXPORT_TEST_PG_HOST`` is set (``.ci/run`` starts a
throwaway PostgreSQL cluster and sets it) the suite runs a second time on PostgreSQL.  Extra
arguments are passed to pytest.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def installed_package_path() -> str:
    """Where ``import import_export`` leads when the checkout is not on the path."""
    probe = "import import_export, os; print(os.path.dirname(import_export.__file__))"
    found = subprocess.run(
        [sys.executable, "-P", "-c", probe], cwd=HERE, capture_output=True, text=True
    )
    return found.stdout.strip() or f"not importable: {found.stderr.strip().splitlines()[-1:]}"


def run_pytest(extra_args: list[str], database: str) -> int:
    env = dict(os.environ, IMPORT_EXPORT_TEST_DB=database)
    print(f"== running the test suite on {database}", flush=True)
    # -P: the current directory (the checkout) is not put on sys.path, so the suite imports the
    # package installed in this interpreter, templates, static files and catalogues included.
    command = [sys.executable, "-P", "-m", "pytest", *extra_args]
    return subprocess.call(command, cwd=HERE, env=env)


def main(argv: list[str]) -> int:
    databases = ["sqlite"]
    if os.environ.get("IMPORT_EXPORT_TEST_PG_HOST"):
        databases.append("postgresql")
    print(f"== testing the installed package: {installed_package_path()}", flush=True)
    status = 0
    for database in databases:
        status = run_pytest(argv, database) or status
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
