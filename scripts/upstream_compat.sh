#!/usr/bin/env bash
# Run django-import-export's own upstream test suite against THIS checkout and print a table.
#
# Why: this fork promises to be a drop-in replacement for upstream 4.4.  The surest check is
# upstream's own tests, run unchanged with our `import_export` package in place of theirs.
# Nothing the script downloads enters the repository: the sdist, the virtualenv and the logs
# all live in a temporary directory that is removed at the end (unless --keep).
#
# Usage: scripts/upstream_compat.sh [options] [PATTERN...]
#   --keep            keep the temporary directory (logs per module are in WORK/logs)
#   --failures        after the table, list every failing test by name
#   --venv DIR        use (and create if missing) this virtualenv instead of one in the temp dir;
#                     lets repeated runs skip the dependency install
#   --version X       upstream version to test against (default 4.4.3)
#   --timeout SECS    time limit for one test module (default 600)
#   --postgresql      run against PostgreSQL instead of SQLite: the server is the one our own
#                     suite uses, IMPORT_EXPORT_TEST_PG_HOST (required) and _PORT (5432), _USER
#                     (postgres), _PASSWORD, handed to upstream's settings as their
#                     IMPORT_EXPORT_TEST_TYPE=postgres and IMPORT_EXPORT_POSTGRESQL_* variables.
#                     A shim (scripts/upstream_compat_pg_settings.py) takes the host from
#                     IMPORT_EXPORT_TEST_PG_HOST (upstream hard-codes localhost) and gives the
#                     run a test database of its own, test_upstream_compat_<pid>, dropped at the
#                     end, so concurrent runs and other suites do not clash
#   PATTERN           only run modules whose dotted name contains PATTERN (e.g. test_widgets)
# Environment: PYTHON selects the interpreter that creates the virtualenv (default python3).
#
# Exit status: 0 when the table was produced, whatever the test results; non-zero only when
# the set-up (download, install, the import check) failed.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HELPER_DIR="$REPO/scripts"
UPSTREAM_VERSION="4.4.3"
KEEP=0
VENV=""
TIMEOUT=600
POSTGRESQL=0
PG_READY=0  # set once the server answered; from then on the exit drops the test database
PATTERNS=()

while [[ $# -gt 0 ]]; do
    case "$1" in
        --keep) KEEP=1 ;;
        --failures) export COMPAT_LIST_FAILURES=1 ;;
        --venv) VENV="$2"; shift ;;
        --version) UPSTREAM_VERSION="$2"; shift ;;
        --timeout) TIMEOUT="$2"; shift ;;
        --postgresql) POSTGRESQL=1 ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
        -*) echo "unknown option: $1" >&2; exit 2 ;;
        *) PATTERNS+=("$1") ;;
    esac
    shift
done

if [[ "$POSTGRESQL" == 1 && -z "${IMPORT_EXPORT_TEST_PG_HOST:-}" ]]; then
    echo "error: --postgresql needs IMPORT_EXPORT_TEST_PG_HOST (and optionally _PORT, _USER," \
        "_PASSWORD) naming the server" >&2
    exit 2
fi

WORK="$(mktemp -d -t ie-upstream-compat.XXXXXX)"
cleanup() {
    if [[ "$PG_READY" == 1 ]]; then
        (cd "$TESTS" && "$VPY" -m upstream_compat_runner pg-drop) \
            || echo "warning: could not drop the test database $COMPAT_PG_TEST_NAME" >&2
    fi
    if [[ "$KEEP" == 1 ]]; then
        echo "kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

say() { echo "== $*" >&2; }

# --- 1. the virtualenv -------------------------------------------------------------------
VENV="${VENV:-$WORK/venv}"
VPY="$VENV/bin/python"

# pip's chatter goes to a log, shown only when pip fails.
pip_quietly() {
    if ! "$VPY" -m pip --disable-pip-version-check "$@" > "$WORK/pip.log" 2>&1; then
        cat "$WORK/pip.log" >&2
        echo "error: pip $1 failed" >&2
        exit 1
    fi
}

if [[ ! -x "$VPY" ]]; then
    say "creating virtualenv $VENV"
    "${PYTHON:-python3}" -m venv "$VENV"
    pip_quietly install --upgrade pip
fi

# --- 2. upstream's source distribution -----------------------------------------------------
say "downloading django-import-export==$UPSTREAM_VERSION (sdist)"
pip_quietly download --no-deps --no-binary :all: \
    --dest "$WORK/dist" "django-import-export==$UPSTREAM_VERSION"
mkdir -p "$WORK/src"
tar -xzf "$WORK"/dist/*.tar.gz -C "$WORK/src"
SRC="$(find "$WORK/src" -mindepth 1 -maxdepth 1 -type d | head -n 1)"
TESTS="$SRC/tests"
# Upstream's tests/manage.py puts the sdist root on sys.path; moving its package away means
# nothing can pick up upstream's import_export by accident.
mv "$SRC/import_export" "$SRC/upstream_import_export_not_used"

# --- 3. dependencies: upstream's test extras (minus what our runs do not need) + ours -------
say "installing dependencies"
"$VPY" - "$SRC/pyproject.toml" "$REPO/setup.cfg" > "$WORK/requirements.txt" <<'PY'
import configparser
import sys
import tomllib

# Not needed for a SQLite or PostgreSQL run (psycopg stays): a MySQL driver that must be
# compiled, coverage, version tooling.
UNNEEDED = ("mysqlclient", "coverage", "setuptools-scm")

with open(sys.argv[1], "rb") as handle:
    project = tomllib.load(handle)["project"]
requirements = list(project["dependencies"])
requirements += project["optional-dependencies"]["tests"]
requirements = [r for r in requirements if not r.lower().startswith(UNNEEDED)]

ours = configparser.ConfigParser()
ours.read(sys.argv[2])
requirements += [
    line.strip() for line in ours["options"]["install_requires"].splitlines() if line.strip()
]
# pip merges repeated names (extras and version limits alike); the last line fixes the
# Django series this fork is tested on.
print("\n".join(requirements))
print("Django>=5.2,<5.3")
print("openpyxl")
PY
pip_quietly install -r "$WORK/requirements.txt"

# --- 4. make sure `import import_export` means this checkout ------------------------------
# The sdist root comes first, as upstream's tests/manage.py puts it first: some tests name
# their helpers by dotted paths from there ("tests.core.tests.test_tmp_storages.Customized...").
# It holds no import_export any more (moved away above), so the package still comes from $REPO,
# and `tests.core` is upstream's test app, not this checkout's.
export PYTHONPATH="$SRC:$REPO:$HELPER_DIR"
export DJANGO_SETTINGS_MODULE=settings
LOADED="$(cd "$TESTS" && "$VPY" -c 'import import_export; print(import_export.__file__)')"
echo "import_export.__file__ = $LOADED"
case "$LOADED" in
    "$REPO"/*) ;;
    *) echo "error: import_export resolves to $LOADED, not to $REPO" >&2; exit 1 ;;
esac
echo "Django $("$VPY" -c 'import django; print(django.get_version())'), upstream tests $UPSTREAM_VERSION"

# --- 4b. the database ----------------------------------------------------------------------
if [[ "$POSTGRESQL" == 1 ]]; then
    # Upstream's tests/settings.py reads these names; ours are mapped onto them.
    export IMPORT_EXPORT_TEST_TYPE=postgres
    export IMPORT_EXPORT_POSTGRESQL_PORT="${IMPORT_EXPORT_TEST_PG_PORT:-5432}"
    export IMPORT_EXPORT_POSTGRESQL_USER="${IMPORT_EXPORT_TEST_PG_USER:-postgres}"
    export IMPORT_EXPORT_POSTGRESQL_PASSWORD="${IMPORT_EXPORT_TEST_PG_PASSWORD:-}"
    # The process id keeps concurrent runs apart; every module of this run reuses the name.
    export COMPAT_PG_TEST_NAME="test_upstream_compat_$$"
    export DJANGO_SETTINGS_MODULE=upstream_compat_pg_settings
    # Run from upstream's tests/ so that the shim's `from settings import *` finds theirs.
    (cd "$TESTS" && "$VPY" -m upstream_compat_runner pg-check) || exit 1
    PG_READY=1
else
    echo "SQLite, in memory (upstream's default)"
fi

# --- 5. one module at a time ---------------------------------------------------------------
mapfile -t LABELS < <(
    cd "$TESTS" && find core/tests -name 'test_*.py' -type f | sort \
        | sed -e 's/\.py$//' -e 's#/#.#g'
)
if [[ ${#PATTERNS[@]} -gt 0 ]]; then
    SELECTED=()
    for label in "${LABELS[@]}"; do
        for pattern in "${PATTERNS[@]}"; do
            if [[ "$label" == *"$pattern"* ]]; then SELECTED+=("$label"); break; fi
        done
    done
    LABELS=("${SELECTED[@]}")
fi
if [[ ${#LABELS[@]} -eq 0 ]]; then
    echo "no upstream test module matches ${PATTERNS[*]}" >&2
    exit 2
fi

mkdir -p "$WORK/results" "$WORK/logs"
for label in "${LABELS[@]}"; do
    say "$label"
    # `python -m django test` keeps "test" in sys.argv, which upstream's settings read to pick
    # an in-memory SQLite database (when not --postgresql).  A failing, crashing or hanging
    # module must not stop us.
    (
        cd "$TESTS"
        COMPAT_RESULT_FILE="$WORK/results/$label.json" timeout "$TIMEOUT" \
            "$VPY" -m django test "$label" --noinput -v 1 \
            --testrunner upstream_compat_runner.CountingRunner
    ) > "$WORK/logs/$label.log" 2>&1 || true
done

# --- 6. the table --------------------------------------------------------------------------
echo
"$VPY" "$HELPER_DIR/upstream_compat_runner.py" summarize "$WORK" "$TESTS" "${LABELS[@]}"
if [[ "$KEEP" == 1 ]]; then
    echo "logs per module: $WORK/logs"
fi
