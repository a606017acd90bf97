"""The fork installs as django-import-export 4.4.3 would: under upstream's pins, with no index.

The wheel is built from a fresh copy of the sources; a scratch virtual environment then
resolves upstream-style requirements to it with ``pip install --no-index --find-links DIST``
and ``pip check`` accepts a package that requires upstream's name.  The dependencies come
from this interpreter's installed distributions, re-packed as wheels into DIST, so the
resolution needs neither an index nor a cache.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

try:
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name
    from packaging.version import Version
except ImportError:  # pip vendors the same library
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.specifiers import SpecifierSet
    from pip._vendor.packaging.utils import canonicalize_name
    from pip._vendor.packaging.version import Version

import import_export

ROOT = Path(__file__).resolve().parents[3]
DISTRIBUTION = "django-import-export"
UPSTREAM_PINS = (">=4.4,<4.5", ">=2.9,<5.0", "==4.4.3", "~=4.4", "==4.4.*")

needs_build_tools = pytest.mark.skipif(
    importlib.util.find_spec("setuptools") is None
    or importlib.util.find_spec("wheel") is None
    or importlib.util.find_spec("ensurepip") is None,
    reason="building the wheel offline needs setuptools and wheel, the scratch venv ensurepip",
)


def test_package_version_and_distribution_metadata_agree():
    assert importlib.metadata.version(DISTRIBUTION) == import_export.__version__
    from import_export import _version

    assert _version.version == _version.__version__ == import_export.__version__
    parsed = Version(import_export.__version__)
    assert _version.version_tuple == (*parsed.release, parsed.local)


@pytest.mark.parametrize("pin", UPSTREAM_PINS)
def test_version_is_a_fork_of_4_4_3_inside_upstream_pins(pin):
    version = Version(import_export.__version__)
    assert version.public == "4.4.3" and version.local  # "4.4.3, modified"
    assert version in SpecifierSet(pin)


def test_version_outside_pins_that_exclude_4_4_3():
    version = Version(import_export.__version__)
    for pin in (">4.4.3", "!=4.4.3", ">=4.5", "<4.4.3"):
        assert version not in SpecifierSet(pin), pin


def build_wheel(source_root: Path, work: Path, dist: Path) -> str:
    """Build the fork's wheel into ``dist`` from a fresh copy; return the build's output."""
    source = work / "source"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(source_root / name, source / name)
    shutil.copytree(
        source_root / "import_export",
        source / "import_export",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation"]
        + ["--no-index", "--wheel-dir", str(dist), str(source)],
        check=True,
        capture_output=True,
        text=True,
    )
    return completed.stdout + completed.stderr


def runtime_dependencies(name: str) -> dict[str, importlib.metadata.Distribution]:
    """The installed distributions ``name`` needs at run time (no extras), transitively."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = [name]
    while pending:
        distribution = importlib.metadata.distribution(pending.pop())
        for line in distribution.requires or ():
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            key = canonicalize_name(requirement.name)
            if key not in found:
                found[key] = importlib.metadata.distribution(requirement.name)
                pending.append(requirement.name)
    return found


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def repack_as_wheel(distribution: importlib.metadata.Distribution, dist: Path) -> Path:
    """Write an installed distribution's files under site-packages back into a wheel.

    Only files inside site-packages are kept (console scripts are left out); the wheel's
    tag is the one the distribution was installed from, read from its ``WHEEL`` file.
    """
    wheel_info = distribution.read_text("WHEEL") or ""
    tags = re.findall(r"^Tag: (\S+)$", wheel_info, re.MULTILINE) or ["py3-none-any"]
    name = canonicalize_name(distribution.metadata["Name"]).replace("-", "_")
    target = dist / f"{name}-{distribution.version}-{tags[0]}.whl"
    site = Path(distribution.locate_file(""))
    records = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in distribution.files or ():
            path = file.as_posix()
            if path.startswith("..") or "__pycache__" in path or path.endswith("/RECORD"):
                continue
            data = (site / file).read_bytes()
            archive.writestr(path, data)
            records.append(_record_line(path, data))
        record_name = f"{Path(str(distribution._path)).name}/RECORD"
        archive.writestr(record_name, "\n".join([*records, f"{record_name},,"]) + "\n")
    return target


def write_consumer_wheel(dist: Path) -> None:
    """A tiny distribution that requires upstream's name, as pulpcore does."""
    info = "upstream_consumer-1.0.dist-info"
    files = {
        "upstream_consumer.py": b"import import_export\n",
        f"{info}/METADATA": (
            b"Metadata-Version: 2.1\nName: upstream-consumer\nVersion: 1.0\n"
            b"Requires-Dist: django-import-export>=2.9,<5.0\n"
        ),
        f"{info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: test_install\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    with zipfile.ZipFile(dist / "upstream_consumer-1.0-py3-none-any.whl", "w") as archive:
        records = []
        for path, data in files.items():
            archive.writestr(path, data)
            records.append(_record_line(path, data))
        archive.writestr(f"{info}/RECORD", "\n".join([*records, f"{info}/RECORD,,"]) + "\n")


def scratch_pip(environment: Path, *args: str) -> subprocess.CompletedProcess:
    python = environment / "bin" / "python"
    return subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def offline_dist(tmp_path_factory):
    """DIST: the fork's wheel, its dependencies' wheels and the consumer; plus the build log."""
    work = tmp_path_factory.mktemp("install")
    dist = work / "dist"
    dist.mkdir()
    build_log = build_wheel(ROOT, work, dist)
    for distribution in runtime_dependencies(DISTRIBUTION).values():
        repack_as_wheel(distribution, dist)
    write_consumer_wheel(dist)
    return work, dist, build_log


@needs_build_tools
def test_wheel_build_prints_no_setuptools_warnings(offline_dist):
    _, dist, build_log = offline_dist
    assert list(dist.glob("django_import_export-4.4.3+*.whl"))
    warnings = [
        line
        for line in build_log.splitlines()
        if re.search(r"(Setuptools|BuildBackend|Deprecation)Warning|Package would be", line)
    ]
    assert warnings == []


@needs_build_tools
@pytest.mark.parametrize("pin", [">=4.4,<4.5", ">=2.9,<5.0"])
def test_upstream_pins_resolve_to_the_fork_without_an_index(offline_dist, pin):
    work, dist, _ = offline_dist
    environment = work / f"venv-{len(pin)}-{pin.count('9')}"
    venv.create(environment, with_pip=True)
    offline = ("--no-index", "--find-links", str(dist))
    installed = scratch_pip(environment, "install", *offline, f"{DISTRIBUTION}{pin}")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    shown = scratch_pip(environment, "show", DISTRIBUTION)
    assert f"Version: {import_export.__version__}" in shown.stdout

    consumer = scratch_pip(environment, "install", *offline, "upstream-consumer")
    assert consumer.returncode == 0, consumer.stdout + consumer.stderr
    assert "Successfully installed upstream-consumer-1.0" in consumer.stdout  # nothing else
    checked = scratch_pip(environment, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    python = environment / "bin" / "python"
    imported = subprocess.run(
        [str(python), "-c", "import upstream_consumer, import_export as m; print(m.__version__)"],
        capture_output=True,
        text=True,
        cwd=work,
    )
    assert imported.stdout.strip() == import_export.__version__, imported.stderr


@needs_build_tools
def test_a_constraints_file_pins_the_fork_by_url_under_a_consumers_range(offline_dist):
    """pulpcore's way: its own requirement stays ``>=2.9,<5.0``; the deployment pins the ref."""
    work, dist, _ = offline_dist
    (wheel,) = dist.glob("django_import_export-*.whl")
    constraints = work / "constraints.txt"
    constraints.write_text(f"{DISTRIBUTION} @ {wheel.as_uri()}\n")
    environment = work / "venv-constraints"
    venv.create(environment, with_pip=True)
    offline = ("--no-index", "--find-links", str(dist))
    installed = scratch_pip(
        environment, "install", *offline, "-c", str(constraints), "upstream-consumer"
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert f"django-import-export-{import_export.__version__}" in installed.stdout
    checked = scratch_pip(environment, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
