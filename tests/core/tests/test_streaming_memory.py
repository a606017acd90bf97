"""Peak memory of a streamed export does not grow with the number of rows.

Each measurement runs in a fresh child process (``benchmarks/export_benchmark.py --child``),
which resets the kernel's peak-RSS counter after a warm-up and reports how far the peak rose
during the export.  The classic path is measured the same way as a control: it must grow, or the
measurement would prove nothing.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.common import ensure_database

ROOT = Path(__file__).resolve().parents[3]
SMALL, LARGE = 4_000, 16_000
#: Allowed extra peak growth for 4x the rows: a fraction of what 12,000 more rows cost classically.
MARGIN_MB = 4.0

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc to measure peak memory"
)


@pytest.fixture(scope="module")
def databases(tmp_path_factory):
    cache = tmp_path_factory.mktemp("export-memory")
    return {rows: ensure_database(rows, cache, quiet=True) for rows in (SMALL, LARGE)}


def peak_growth_mb(mode: str, file_format: str, db_path: Path) -> float:
    script = ROOT / "benchmarks" / "export_benchmark.py"
    command = [sys.executable, str(script), "--child", mode, file_format, str(db_path)]
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(output.stdout.strip().splitlines()[-1])["growth_mb"]


@pytest.mark.parametrize(
    "mode, file_format",
    [("stream", "json"), ("stream", "csv"), ("stream", "xlsx"), ("stream_instances", "json")],
)
def test_four_times_the_rows_needs_no_more_memory(databases, mode, file_format):
    small = peak_growth_mb(mode, file_format, databases[SMALL])
    large = peak_growth_mb(mode, file_format, databases[LARGE])
    assert large <= small + MARGIN_MB, f"{mode} {file_format}: {small} MB -> {large} MB"


def test_the_measurement_sees_the_classic_path_grow(databases):
    small = peak_growth_mb("classic", "json", databases[SMALL])
    large = peak_growth_mb("classic", "json", databases[LARGE])
    assert large > small + 5 * MARGIN_MB, f"classic json: {small} MB -> {large} MB"
