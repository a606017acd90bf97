"""Export every model of the test project in every importable format, empty the database, import
the files back, and check that the same records come back; a second import must not add any."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import models as django_models

from core import models
from import_export import widgets
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.resources import ModelResource, modelresource_factory

pytestmark = pytest.mark.django_db(transaction=False)

IMPORT_FORMATS = [fmt for fmt in base_formats.DEFAULT_FORMATS if fmt().can_import()]

#: Tricky text: separators, quotes, line breaks, non-ASCII, leading/trailing spaces kept inside.
AWKWARD_TEXT = 'comma, "quote"; semi\ttab and ünïcödé ✓'


def resource_for(model):
    return modelresource_factory(model)()


def make_records():
    """A few records of every model, covering empty values and every relation kind."""
    # The default datetime export format has whole seconds, so stored values have no fraction.
    user = User.objects.create(
        username="ann",
        email="ann@example.com",
        first_name="Ann",
        date_joined=datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC),
    )
    models.Profile.objects.create(user=user, is_private=False)
    author = models.Author.objects.create(
        name="Frank", birthday=datetime.datetime(1920, 10, 8, 12, 30, tzinfo=datetime.UTC)
    )
    models.Author.objects.create(name=AWKWARD_TEXT)
    scifi = models.Category.objects.create(name="scifi")
    classic = models.Category.objects.create(name="classic")
    dune = models.Book.objects.create(
        name="Dune",
        author=author,
        author_email="frank@example.com",
        imported=True,
        published=datetime.date(1965, 8, 1),
        published_time=datetime.time(9, 15),
        price=Decimal("12.50"),
        added=datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
    )
    dune.categories.set([scifi, classic])
    models.Book.objects.create(name="Untitled")
    models.AllTypes.objects.create(
        char="x",
        text="line one\nline two",
        small_int=-3,
        integer=42,
        big_int=9_000_000_000,
        positive_int=7,
        decimal=Decimal("3.1415"),
        floating=2.5,
        boolean=True,
        nullable_boolean=False,
        date=datetime.date(2001, 2, 3),
        datetime=datetime.datetime(2001, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),
        time=datetime.time(23, 59, 58),
        duration=datetime.timedelta(days=1, hours=2, seconds=3),
        json={"list": [1, 2], "text": "a"},
        email="a@example.com",
        slug="a-slug",
        url="https://example.com/x",
    )
    models.AllTypes.objects.create()
    uuid_cat = models.UUIDCategory.objects.create(
        catid=uuid.UUID("12345678-1234-5678-1234-567812345678"), name="uuid cat"
    )
    uuid_book = models.UUIDBook.objects.create(name="uuid book", author=author)
    uuid_book.categories.set([uuid_cat])
    acme = models.Publisher.objects.create(name="Acme", country="FR")
    models.Magazine.objects.create(title="Monthly", publisher=acme, issue=12)
    models.Magazine.objects.create(title="No publisher")
    models.Place.objects.create(name="Square", address="1 Main St")
    models.Restaurant.objects.create(name="Luigi's", address="2 Main St", serves_pizza=True)
    models.NullableTypes.objects.create(
        char="c",
        text="line one\nline two",
        small_int=-3,
        integer=42,
        big_int=9_000_000_000,
        positive_int=7,
        decimal=Decimal("-12345.678"),
        floating=2.5,
        nullable_boolean=True,
        date=datetime.date(2001, 2, 3),
        datetime=datetime.datetime(2001, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),
        time=datetime.time(23, 59, 58),
        duration=datetime.timedelta(days=1, hours=2, seconds=3),
        json={"list": [1, 2], "text": "a"},
        email="a@example.com",
        slug="a-slug",
        url="https://example.com/x",
        uuid=uuid.UUID("87654321-4321-8765-4321-876543218765"),
        file="uploads/report 1.pdf",
        ip="2001:db8::1",
        author=author,
    )
    # An empty JSON list or object is rendered as an empty cell, as upstream renders it, and
    # comes back null: a nullable JSON column round-trips non-empty values and null only.
    models.NullableTypes.objects.create(ip="192.0.2.10", file="", json=[None], floating=0.0)
    models.NullableTypes.objects.create()  # every column null
    repo = models.Repository.objects.create(name="base", description=AWKWARD_TEXT)
    models.Package.objects.create(
        repository=repo,
        name="bash",
        version="5.2",
        release="1.fc39",
        arch="x86_64",
        pkg_id="a" * 64,
        summary="The shell",
        size_package=1234567,
        time_build=1700000000,
    )


#: Models in an order that imports every relation target before the records pointing at it.
#: Every Place, restaurants' parent rows included, comes before Restaurant: a restaurant's
#: ``place_ptr`` column is a relation to its Place.
EXPORTS = [
    (User, None),
    (models.Profile, None),
    (models.Author, None),
    (models.Category, None),
    (models.Book, None),
    (models.AllTypes, None),
    (models.NullableTypes, None),
    (models.UUIDCategory, None),
    (models.UUIDBook, None),
    (models.Publisher, None),
    (models.Magazine, None),
    (models.Place, None),
    (models.Restaurant, None),
    (models.Repository, None),
    (models.Package, None),
]


def _text_columns(model):
    """Indexes (in ``values_list()`` order) of the columns holding text: a null in them is
    written as an empty cell, which imports back as "" (upstream's CharWidget does the same for
    a field with ``blank=True``), so the comparison treats null and "" there as equal."""
    text_fields = (django_models.CharField, django_models.TextField, django_models.FileField)
    return [i for i, f in enumerate(model._meta.concrete_fields) if isinstance(f, text_fields)]


def _null_text_as_empty(model, rows):
    indexes = _text_columns(model)
    return [
        tuple("" if i in indexes and value is None else value for i, value in enumerate(row))
        for row in rows
    ]


def snapshot():
    """All rows of all tables involved, many-to-many link tables included."""
    rows = {
        model._meta.label: sorted(_null_text_as_empty(model, model.objects.values_list()), key=repr)
        for model, _ in EXPORTS
    }
    # The link tables' own ids are not exported; the links themselves must come back.
    for link in (models.Book.categories.through, models.UUIDBook.categories.through):
        columns = [f.attname for f in link._meta.fields if not f.primary_key]
        rows[link._meta.label] = sorted(link.objects.values_list(*columns), key=repr)
    return rows


def export_all(file_format):
    files = []
    for model, only in EXPORTS:
        queryset = model.objects.all() if only is None else model.objects.filter(**only)
        dataset = resource_for(model).export(queryset)
        files.append((model, file_format.export_data(dataset)))
    return files


def import_all(file_format, files):
    results = {}
    for model, data in files:
        dataset = file_format.create_dataset(data)
        results[model] = resource_for(model).import_data(dataset, raise_errors=True)
    return results


def wipe():
    for model, _ in reversed(EXPORTS):
        model.objects.all().delete()
    assert all(not rows for rows in snapshot().values())


@pytest.mark.parametrize("format_class", IMPORT_FORMATS, ids=lambda f: f.__name__)
def test_export_then_import_reproduces_every_record(format_class):
    file_format = format_class()
    make_records()
    before = snapshot()
    files = export_all(file_format)

    wipe()
    results = import_all(file_format, files)
    for model, result in results.items():
        assert not result.has_errors() and not result.has_validation_errors(), model
        assert result.totals["new"] == len(result.rows) > 0, model
    assert snapshot() == before

    again = import_all(file_format, files)
    for model, result in again.items():
        assert result.totals["new"] == 0, model
        assert result.totals["update"] + result.totals["skip"] == len(result.rows), model
    assert snapshot() == before


@pytest.mark.parametrize("format_class", IMPORT_FORMATS, ids=lambda f: f.__name__)
def test_reimport_with_skip_unchanged_reports_skips(format_class):
    file_format = format_class()
    make_records()
    book_resource = modelresource_factory(models.Book, meta_options={"skip_unchanged": True})
    data = file_format.export_data(book_resource().export())
    result = book_resource().import_data(file_format.create_dataset(data), raise_errors=True)
    assert [r.import_type for r in result.rows] == ["skip", "skip"]


def test_every_model_of_the_test_project_is_covered():
    from django.apps import apps

    project_models = set(apps.get_app_config("core").get_models())
    covered = {model for model, _ in EXPORTS} | set(PULP_MODELS)
    assert project_models <= covered


# ---- the pulpcore shape: streamed export to a file, import into an emptied database ----------


class PulpDomainResource(ModelResource):
    """A model with a UUID primary key, matched on import by its natural key (its name)."""

    class Meta:
        model = models.PulpDomain
        fields = ("pulp_id", "name", "description")
        import_id_fields = ("name",)


class PulpContentFields(ModelResource):
    """The base content columns, with the domain exported by its natural key, as pulpcore does."""

    domain = Field(
        attribute="domain",
        column_name="domain",
        widget=widgets.ForeignKeyWidget(models.PulpDomain, "name"),
    )


class PulpContentResource(PulpContentFields):
    class Meta:
        model = models.PulpContent
        fields = (
            "pulp_id",
            "pulp_type",
            "upstream_id",
            "pulp_labels",
            "timestamp_of_interest",
            "domain",
        )
        import_id_fields = ("pulp_id",)

    def get_queryset(self):
        # Content of a detail type travels with its own resource, which writes both tables.
        return super().get_queryset().filter(pulppackage__isnull=True)


class PulpPackageResource(PulpContentFields):
    """The multi-table child: importing a row writes the base row and the package row."""

    class Meta:
        model = models.PulpPackage
        exclude = ("pulpcontent_ptr",)
        import_id_fields = ("pulp_id",)


PULP_RESOURCES = [PulpDomainResource, PulpContentResource, PulpPackageResource]
PULP_MODELS = [models.PulpDomain, models.PulpContent, models.PulpPackage]
STREAMED_FORMATS = [
    fmt
    for fmt in (base_formats.CSV, base_formats.TSV, base_formats.JSON, base_formats.YAML)
    + (base_formats.XLSX,)
    if fmt.is_available() and fmt().can_stream()
]


def make_pulp_records():
    default = models.PulpDomain.objects.create(name="default", description=AWKWARD_TEXT)
    other = models.PulpDomain.objects.create(name="other")
    models.PulpContent.objects.create(
        pulp_type="core.publishedmetadata",
        upstream_id=uuid.UUID("0f0e0d0c-0b0a-0908-0706-050403020100"),
        pulp_labels={"team": "infra", "ünï": "✓"},
        timestamp_of_interest=datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        domain=default,
    )
    models.PulpContent.objects.create(domain=None)  # no upstream id, no labels, no domain
    models.PulpPackage.objects.create(
        pulp_type="rpm.package",
        upstream_id=uuid.uuid4(),
        pulp_labels={"arch": "x86_64"},
        domain=default,
        name="bash",
        version="5.2.15",
        release="1.fc39",
        arch="x86_64",
        checksum="a" * 64,
        size=1_234_567,
        files=[["/usr/bin", "bash"], ["/etc", "bashrc"]],
        location="artifact/ab/cdef0123 bash.rpm",
        server="2001:db8::7",
    )
    models.PulpPackage.objects.create(
        pulp_type="rpm.package", domain=other, name="zsh", version="5.9", upstream_id=None
    )


def pulp_snapshot():
    return {
        model._meta.label: sorted(_null_text_as_empty(model, model.objects.values_list()), key=repr)
        for model in PULP_MODELS
    }


def stream_pulp_exports(file_format, folder):
    """Each resource's export written with export_to_stream into a file, as pulpcore does."""
    paths = []
    for resource_class in PULP_RESOURCES:
        path = folder / f"{resource_class.__name__}.{file_format.get_extension()}"
        mode = "wb" if file_format.is_binary() else "w"
        with open(path, mode, **({} if file_format.is_binary() else {"newline": ""})) as file:
            assert resource_class().export_to_stream(file_format, file) > 0
        paths.append((resource_class, path))
    return paths


def import_pulp_files(file_format, paths):
    results = []
    for resource_class, path in paths:
        with open(path, file_format.get_read_mode()) as file:
            dataset = file_format.create_dataset(file.read())
        results.append(resource_class().import_data(dataset, raise_errors=True))
    return results


@pytest.mark.parametrize("format_class", STREAMED_FORMATS, ids=lambda f: f.__name__)
def test_pulpcore_shaped_streamed_export_imports_back_into_an_empty_database(
    format_class, tmp_path
):
    file_format = format_class()
    make_pulp_records()
    before = pulp_snapshot()
    paths = stream_pulp_exports(file_format, tmp_path)

    for model in reversed(PULP_MODELS):
        model.objects.all().delete()
    assert not any(pulp_snapshot().values())

    results = import_pulp_files(file_format, paths)
    for result in results:
        assert not result.has_errors() and not result.has_validation_errors()
        assert result.totals["new"] == len(result.rows) > 0
    assert pulp_snapshot() == before

    again = import_pulp_files(file_format, paths)
    for result in again:
        assert result.totals["new"] == 0
        assert result.totals["update"] + result.totals["skip"] == len(result.rows)
    assert pulp_snapshot() == before
