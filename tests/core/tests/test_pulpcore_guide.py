"""The pulpcore migration guide's code (core/pulpcore_guide.py, shown in the docs as it is):
export into a tar, empty the database, import from the tar, every row equal."""

import datetime
import uuid

import pytest

from core import pulpcore_guide
from core.models import PulpContent, PulpDomain, PulpPackage

pytestmark = pytest.mark.django_db


def every_row():
    return {
        model.__name__: sorted(model.objects.values_list(), key=repr)
        for model in (PulpDomain, PulpContent, PulpPackage)
    }


@pytest.fixture
def content():
    """Domains and packages with awkward values: JSON, non-ASCII, quotes, IPv4 and IPv6.

    Empty values of nullable columns (a NULL UUID, text or IP address; an empty JSON list)
    are left out: a JSON export writes them as "" or null and their import back is the
    subject of issue 10 (engineer "constraints"), not of this guide.
    """
    main = PulpDomain.objects.create(name="main", description="the default domain")
    other = PulpDomain.objects.create(name="other", description='ünïcödé, "quoted"')
    for number in range(25):
        PulpPackage.objects.create(
            pulp_type="rpm.package",
            upstream_id=uuid.uuid4(),
            pulp_labels={"team": "pulp", "n": number} if number % 3 else {},
            timestamp_of_interest=datetime.datetime(2024, 1, 1, 12, number, tzinfo=datetime.UTC),
            domain=main if number % 4 else other,
            name=f"pkg-{number}",
            version="1.0",
            release=str(number),
            arch="x86_64" if number % 5 else "",
            checksum=f"{number:064x}",
            size=number * 1000,
            files=[f"/usr/bin/p{number}", 'ünïcödé, "quoted"'],
            location=f"artifact/{number:02d}.rpm",
            server="2001:db8::1" if number % 2 else "10.0.0.1",
        )


@pytest.mark.parametrize("retry", [False, True])
def test_the_guide_exports_into_a_tar_and_imports_every_row_back(content, tmp_path, retry):
    before = every_row()
    assert len(before["PulpPackage"]) == 25
    tar_path = tmp_path / "export.tar"

    pulpcore_guide.export_domain(tar_path)
    PulpPackage.objects.all().delete()
    PulpContent.objects.all().delete()
    PulpDomain.objects.all().delete()
    assert every_row() == {"PulpDomain": [], "PulpContent": [], "PulpPackage": []}

    pulpcore_guide.import_domain(tar_path, retry=retry)
    assert every_row() == before


def test_a_second_import_of_the_same_tar_changes_nothing(content, tmp_path):
    before = every_row()
    tar_path = tmp_path / "export.tar"
    pulpcore_guide.export_domain(tar_path)
    pulpcore_guide.import_domain(tar_path)
    assert every_row() == before


def test_a_domain_export_holds_only_its_packages(content, tmp_path):
    tar_path = tmp_path / "main.tar"
    main = PulpDomain.objects.get(name="main")
    pulpcore_guide.export_domain(tar_path, domain=main)
    wanted = sorted(PulpPackage.objects.filter(domain=main).values_list(), key=repr)
    PulpPackage.objects.all().delete()
    PulpContent.objects.all().delete()
    pulpcore_guide.import_domain(tar_path)
    assert sorted(PulpPackage.objects.values_list(), key=repr) == wanted
