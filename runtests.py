#!/usr/bin/env python
"""Run the test suite: the pytest suite against the test project in ``tests/``.

Why a script: it is the one command CI, ``make test`` and tox share, so they cannot drift apart.
The suite runs on SQLite; when ``IMPORT_EXPORT_TEST_PG_HOST`` is set (``.ci/run`` starts a throwaway
PostgreSQL cluster and sets it) the suite runs a second time on PostgreSQL.  Extra arguments are
passed to pytest.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run_pytest(extra_args: list[str], database: str) -> int:
    env = dict(os.environ, IMPORT_EXPORT_TEST_DB=database)
    print(f"== running the test suite on {database}", flush=True)
    command = [sys.executable, "-m", "pytest", *extra_args]
    return subprocess.call(command, cwd=HERE, env=env)


def main(argv: list[str]) -> int:
    databases = ["sqlite"]
    if os.environ.get("IMPORT_EXPORT_TEST_PG_HOST"):
        databases.append("postgresql")
    status = 0
    for database in databases:
        status = run_pytest(argv, database) or status
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
