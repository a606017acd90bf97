#!/usr/bin/env python
"""``make demo``: stream a 200,000-row export of the test project to JSON, CSV and XLSX.

It creates an SQLite database of pulpcore-shaped packages under ``demo-output/``.  Each export
then runs in a fresh child process, once streamed with ``export_to_stream`` (a progress bar on
stderr, one plain line per stage when stderr is not a terminal) and once through the classic
``export()`` + ``export_data`` path, and the table compares rows, bytes, seconds and memory
growth (the peak RSS during the export minus the RSS before it, as in the README).  The text
formats must come out byte for byte the same both ways; the demo checks it.

At the default 200,000 rows it takes about 3.5 minutes and writes about 630 MB into
``demo-output/``, which it removes at the end unless ``--keep`` is given or ``DEMO_KEEP=1`` is
set (a kept database is reused by the next run).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, ensure_database, read_status_kb, reset_peak  # noqa: E402

OUTPUT = ROOT / "demo-output"
FORMATS = ("json", "csv", "xlsx")


def run_child(mode: str, file_format: str, db_path: Path, target: Path) -> dict:
    from benchmarks.common import setup_django

    setup_django(db_path)
    from core.models import Package
    from core.resources import PackageResource
    from django.core.management.base import OutputWrapper

    from import_export.management.commands.export import ProgressBar
    from import_export.streaming import resolve_format

    queryset = Package.objects.order_by("pk")
    file_format = resolve_format(file_format)
    resource = PackageResource()
    resource.get_export_headers()  # warm up imports before the peak is reset
    baseline = reset_peak()
    started = time.perf_counter()
    with open(target, "wb") as handle:
        if mode == "stream":
            progress = ProgressBar(OutputWrapper(sys.stderr), total=queryset.count())
            rows = resource.export_to_stream(file_format, handle, queryset, progress=progress)
            progress.end_line()
        else:
            dataset = resource.export(queryset)
            data = file_format.export_data(dataset)
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            rows = len(dataset)
    seconds = time.perf_counter() - started
    return {
        "mode": mode,
        "format": file_format.get_extension(),
        "rows": rows,
        "bytes": target.stat().st_size,
        "seconds": round(seconds, 2),
        "growth_mb": round((read_status_kb("VmHWM") - baseline) / 1024, 1),
    }


def export_in_child(mode: str, file_format: str, db_path: Path) -> dict:
    suffix = "" if mode == "stream" else "-classic"
    target = OUTPUT / f"packages{suffix}.{file_format}"
    if mode == "stream":
        print(f"streaming {file_format.upper()} to {target.relative_to(ROOT)}", file=sys.stderr)
    command = [sys.executable, __file__, "--child", mode, file_format, str(db_path), str(target)]
    output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    result = json.loads(output.stdout.strip().splitlines()[-1])
    result["path"] = target
    return result


def print_table(pairs: list[tuple[dict, dict]]) -> None:
    print()
    header = f"{'format':<7}{'path':<9}{'rows':>10}{'bytes':>15}{'seconds':>10}{'growth MB':>11}"
    print(header + "  same bytes")
    for streamed, classic in pairs:
        same = (
            "-"
            if streamed["format"] == "xlsx"
            else str(filecmp.cmp(streamed["path"], classic["path"], shallow=False))
        )
        for result in (streamed, classic):
            print(
                f"{result['format']:<7}{result['mode']:<9}{result['rows']:>10,}"
                f"{result['bytes']:>15,}{result['seconds']:>10}{result['growth_mb']:>11}"
                f"  {same if result is streamed else ''}"
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument(
        "--keep",
        action="store_true",
        default=os.environ.get("DEMO_KEEP", "") not in ("", "0"),
        help="keep demo-output/ (database and exported files); also DEMO_KEEP=1",
    )
    args = parser.parse_args(argv)
    if args.child:
        mode, file_format, db, target = args.child
        print(json.dumps(run_child(mode, file_format, Path(db), Path(target))))
        return 0
    started = time.monotonic()
    existed = OUTPUT.exists()
    print(
        f"writing about {args.rows * 3.15 / 1000:,.0f} MB into {OUTPUT.relative_to(ROOT)}/ "
        + _what_is_removed(args.keep, existed),
        file=sys.stderr,
    )
    OUTPUT.mkdir(exist_ok=True)
    try:
        pairs = run_exports(args)
        print_table(pairs)
        print(f"\n{output_size_mb():,.0f} MB written in {time.monotonic() - started:.0f} s")
    finally:
        if not args.keep and not existed:
            shutil.rmtree(OUTPUT, ignore_errors=True)
        elif not args.keep:
            remove_exports()
    return 0


def _what_is_removed(keep: bool, existed: bool) -> str:
    if keep:
        return "(kept: --keep / DEMO_KEEP)"
    if existed:
        return "(the exports are removed at the end; the database kept earlier stays)"
    return "(removed at the end; --keep keeps it)"


def run_exports(args) -> list[tuple[dict, dict]]:
    db_path = ensure_database(args.rows, OUTPUT)
    pairs = []
    for file_format in args.formats.split(","):
        streamed = export_in_child("stream", file_format, db_path)
        classic = export_in_child("classic", file_format, db_path)
        pairs.append((streamed, classic))
    return pairs


def output_size_mb() -> float:
    return sum(path.stat().st_size for path in OUTPUT.rglob("*") if path.is_file()) / 1e6


def remove_exports() -> None:
    """Remove the exported files but not a database that was there before this run."""
    for file_format in FORMATS:
        for suffix in ("", "-classic"):
            (OUTPUT / f"packages{suffix}.{file_format}").unlink(missing_ok=True)


if __name__ == "__main__":
    if "--child" not in sys.argv:
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main(sys.argv[1:]))
