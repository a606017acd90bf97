"""The package as it is installed holds every template, static file and catalogue.

``make test`` (through ``runtests.py``) runs the suite against a non-editable install, so the
admin tests render the installed templates; these tests also compare the file lists directly,
for the installed package and for a freshly built wheel.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import import_export

ROOT = Path(__file__).resolve().parents[3]
SOURCE_PACKAGE = ROOT / "import_export"
DATA_FOLDERS = ("templates", "static", "locale")


def package_data_in_source() -> set[str]:
    """Paths (relative to the package) of the non-Python files the package must ship."""
    files = set()
    for folder in DATA_FOLDERS:
        for path in (SOURCE_PACKAGE / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                files.add(path.relative_to(SOURCE_PACKAGE).as_posix())
    return files


def test_the_source_tree_has_templates_static_files_and_catalogues():
    files = package_data_in_source()
    assert "templates/admin/import_export/import.html" in files
    assert "static/import_export/guess_format.js" in files
    assert {"locale/django.pot", "locale/es/LC_MESSAGES/django.mo"} <= files


def test_installed_package_holds_all_package_data():
    installed = Path(import_export.__file__).resolve().parent
    if installed == SOURCE_PACKAGE.resolve():
        pytest.skip("the suite imports the source tree (python -m pytest from the checkout)")
    missing = {name for name in package_data_in_source() if not (installed / name).is_file()}
    assert missing == set()


@pytest.mark.skipif(
    importlib.util.find_spec("setuptools") is None or importlib.util.find_spec("wheel") is None,
    reason="building a wheel without network needs setuptools and wheel installed",
)
def test_built_wheel_holds_all_package_data(tmp_path):
    # Built from a fresh copy of what the build reads, so no stale build/ folder can help.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        SOURCE_PACKAGE, source / "import_export", ignore=shutil.ignore_patterns("__pycache__")
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = {name for name in package_data_in_source() if f"import_export/{name}" not in names}
    assert missing == set()
    assert "import_export/_version.py" in names
