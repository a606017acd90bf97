"""Shared pieces of the benchmarks and the demo: a standalone Django setup, a pulpcore-shaped
database of a given size, and peak-memory measurement of the current process.

Memory is measured the way the Linux kernel counts it: writing ``5`` to ``/proc/self/clear_refs``
resets the peak resident set (VmHWM) to the current one, so ``VmHWM`` after the work minus
``VmRSS`` before it is the growth the work caused, including memory held by C libraries.
Each scenario runs in a fresh child process so that one scenario's heap does not hide another's.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = Path(os.environ.get("IMPORT_EXPORT_BENCH_DIR", "/tmp/import-export-bench"))
REPOSITORIES = 20


def setup_django(db_path: Path, prefer_installed: bool = False) -> None:
    """Configure the test project's settings on an SQLite file, with DEBUG off.

    ``prefer_installed`` puts this checkout after the installed packages, so that an installed
    django-import-export (upstream, for comparison) is the one imported.
    """
    os.environ["IMPORT_EXPORT_TEST_DB"] = "sqlite"  # even when the suite runs on PostgreSQL
    os.environ["IMPORT_EXPORT_TEST_SQLITE_NAME"] = str(db_path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    sys.path.insert(0, str(ROOT / "tests"))
    if prefer_installed:
        sys.path.append(str(ROOT))
    elif str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def read_status_kb(key: str) -> int:
    """A ``kB`` figure from ``/proc/self/status`` (``VmRSS``, ``VmHWM``)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def reset_peak() -> int:
    """Reset the peak RSS to the current RSS and return the current RSS in kB."""
    import gc

    gc.collect()
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
    return read_status_kb("VmRSS")


def database_path(rows: int, cache: Path = DEFAULT_CACHE) -> Path:
    return cache / f"packages-{rows}.sqlite3"


def ensure_database(rows: int, cache: Path = DEFAULT_CACHE, quiet: bool = False) -> Path:
    """Create (once) an SQLite database of the test project holding ``rows`` packages."""
    path = database_path(rows, cache)
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    started = time.monotonic()
    _migrate(partial)
    _fill_packages(partial, rows)
    partial.rename(path)
    if not quiet:
        print(f"created {path} ({rows} rows) in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return path


def _migrate(path: Path) -> None:
    """Create the schema in a child process (Django can be set up once per process)."""
    import subprocess

    code = (
        "import sys; sys.path[:0] = [sys.argv[1]]; from benchmarks.common import setup_django;"
        "from pathlib import Path; setup_django(Path(sys.argv[2]));"
        "from django.core.management import call_command; call_command('migrate', verbosity=0)"
    )
    subprocess.run([sys.executable, "-c", code, str(ROOT), str(path)], check=True)


def _fill_packages(path: Path, rows: int) -> None:
    """Insert pulpcore-like packages with plain SQL (fast, and the ORM is not what is measured)."""
    connection = sqlite3.connect(path)
    with connection:
        connection.executemany(
            "INSERT INTO core_repository (id, name, description) VALUES (?, ?, ?)",
            [(i, f"rhel-9-baseos-{i}", "Red Hat Enterprise Linux 9 BaseOS") for i in range(1, 21)],
        )
        connection.executemany(
            "INSERT INTO core_package (repository_id, name, epoch, version, release, arch, pkg_id,"
            " checksum_type, summary, description, url, size_package, time_build)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (_package_row(i) for i in range(rows)),
        )
    connection.close()


def _package_row(i: int) -> tuple:
    name = f"package-{i % 5000}"
    return (
        i % REPOSITORIES + 1,
        name,
        str(i % 3),
        f"{i % 17}.{i % 101}.{i % 7}",
        f"{i % 13}.el9",
        ("x86_64", "noarch", "aarch64")[i % 3],
        f"{i:064x}",
        "sha256",
        f'Summary of {name}: a library with a "quoted" word, a comma, and é',
        f"{name} provides things.\nIt spans two lines and is long enough to matter. " * 3,
        f"https://example.com/{name}",
        1000 + i,
        1700000000 + i,
    )


def format_table(results: list[dict]) -> str:
    """The Markdown table of the streaming benchmarks' results (one row per case)."""
    lines = [
        "| format | mode | rows | seconds | rows/s | peak RSS growth (MB) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['format']} | {r['mode']} | {r['rows']:,} | {r['seconds']} | "
            f"{r['rows_per_s']:,} | {r['growth_mb']} |"
        )
    return "\n".join(lines)


def streamed_cases(results: list[dict], file_format: str) -> list[dict]:
    """The ``stream`` results of ``file_format``, smallest first."""
    return sorted(
        (r for r in results if r["mode"] == "stream" and r["format"] == file_format),
        key=lambda r: r["rows"],
    )


def flat_growth_note(file_format: str, streamed: list[dict], target: str = "") -> str | None:
    """How the streamed path's peak growth changes from its smallest run to its largest (the
    flat-memory claim both streaming benchmarks check), or ``None`` with fewer than two runs."""
    if len(streamed) < 2:
        return None
    small, large = streamed[0], streamed[-1]
    ratio = large["growth_mb"] / max(small["growth_mb"], 0.1)
    return (
        f"{file_format}: stream growth {small['growth_mb']} MB at {small['rows']:,} rows, "
        f"{large['growth_mb']} MB at {large['rows']:,} rows (x{ratio:.2f}{target})"
    )
