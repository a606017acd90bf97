#!/usr/bin/env python
"""YAML alias bomb: time and peak memory of reading a tiny hostile YAML file for import.

The measure is ``YAML().create_dataset`` followed by turning the row's cells into text, which
is what the import does next (widgets ``force_str`` a cell, the preview renders it): loading
alone is cheap because PyYAML shares the aliased objects; walking them expands every alias.

The file is a list of one row whose cells nest aliases ``levels`` deep: ``9 ** levels`` values
once expanded, in about 50 bytes per level. Each case runs in a fresh child process, with its
peak resident memory reset (``/proc/self/clear_refs``) before the file is read; the growth is
``VmHWM`` after minus ``VmRSS`` before. The fork (this checkout) and, with
``--upstream-python``, django-import-export 4.4 installed in another virtualenv are measured
side by side in one run::

    python benchmarks/yaml_alias_bomb.py --upstream-python /tmp/upstream-venv/bin/python
    python benchmarks/yaml_alias_bomb.py --levels 5 6 7 8 --timeout 120

A case that runs past ``--timeout`` seconds is reported as such and killed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import sys, time
levels = int(sys.argv[1])
lines = ['- v: &l0 ["a","a","a","a","a","a","a","a","a"]']
for level in range(1, levels):
    refs = ",".join([f"*l{level - 1}"] * 9)
    lines.append(f"  w{level}: &l{level} [{refs}]")
text = "\n".join(lines) + "\n"
import django
from django.conf import settings
settings.configure()
django.setup()
from import_export.formats import base_formats

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024

open("/proc/self/clear_refs", "w").write("5")
before = status("VmRSS")
started = time.perf_counter()
try:
    dataset = base_formats.YAML().create_dataset(text)
    # What the import does next with a cell (a widget's force_str, the preview's rendering).
    rendered = sum(len(str(cell)) for cell in dataset[0])
    outcome = f"loaded, {rendered / 1e6:.0f} MB of text"
except Exception as error:
    outcome = type(error).__name__
elapsed = time.perf_counter() - started
print(f"{len(text)}\t{outcome}\t{elapsed:.3f}\t{status('VmHWM') - before:.0f}")
"""


def run_case(python: str, levels: int, timeout: float, cwd: str) -> str:
    try:
        done = subprocess.run(
            [python, "-c", CHILD, str(levels)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired:
        return f"?\tover {timeout:.0f} s (killed)\t-\t-"
    if done.returncode != 0:
        return f"?\tchild failed: {done.stderr.strip().splitlines()[-1]}\t-\t-"
    return done.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[5, 6, 7, 8, 9])
    parser.add_argument("--upstream-python", help="python of a virtualenv with upstream 4.4")
    parser.add_argument("--timeout", type=float, default=60)
    options = parser.parse_args()
    repo = str(Path(__file__).resolve().parent.parent)
    implementations = [("fork", sys.executable, repo)]
    if options.upstream_python:
        # Run from / so that this checkout's import_export is not on the path.
        implementations.append(("upstream", options.upstream_python, "/"))
    print(
        f"{'impl':9} {'levels':>6} {'values':>14} {'bytes':>6}  {'outcome':24} {'s':>8} {'MB':>6}"
    )
    for levels in options.levels:
        for name, python, cwd in implementations:
            size, outcome, seconds, growth = run_case(python, levels, options.timeout, cwd).split(
                "\t"
            )
            print(
                f"{name:9} {levels:>6} {9**levels:>14,} {size:>6}  {outcome:24} {seconds:>8} "
                f"{growth:>6}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
