"""Imported values checked against their model fields' own constraints (issue 10).

Each hostile value gets the outcome upstream 4.4 has on PostgreSQL, on every database: a row
error naming the row and the column, with nothing committed, where the database refuses the
value; a validation error where Django's save refuses it; an import where upstream imports.
"""

import uuid
from decimal import Decimal

import pytest
import tablib
from django.db import DataError, models
from django.test.utils import CaptureQueriesContext

from core.models import NullableTypes, PulpContent, PulpDomain, PulpPackage
from import_export import field_constraints, resources
from import_export.error_text import shorten_value
from import_export.field_constraints import FieldConstraintError, constraints_for

pytestmark = pytest.mark.django_db

UUID_TEXT = "12345678-1234-5678-1234-567812345678"


class NullableTypesResource(resources.ModelResource):
    class Meta:
        model = NullableTypes


class PulpContentResource(resources.ModelResource):
    class Meta:
        model = PulpContent
        import_id_fields = ("pulp_id",)
        fields = ("pulp_id", "pulp_type", "upstream_id", "pulp_labels")


def two_rows(column, value, good=None):
    """A good first row and the value under test in the second, as a user's file would."""
    return tablib.Dataset(["", good], ["", value], headers=["id", column])


def stored():
    return sorted(NullableTypes.objects.values_list(flat=False), key=repr)


@pytest.fixture
def existing():
    NullableTypes.objects.create(char="kept", decimal=Decimal("1.5"))
    return stored()


def only_row_error(result):
    assert not result.invalid_rows
    ((number, (error,)),) = result.row_errors()
    return number, error


# ---- values the database cannot store: row errors, nothing committed ---------------------------

REFUSED_BY_THE_DATABASE = [
    ("char", "x" * 21, "Ensure this value has at most 20 characters (it has 21)."),
    ("slug", "s" * 51, "Ensure this value has at most 50 characters (it has 51)."),
    ("email", "e" * 250 + "@x.io", "Ensure this value has at most 254 characters (it has 255)."),
    ("url", "https://x/" + "u" * 191, "Ensure this value has at most 200 characters (it has 201)."),
    ("file", "f/" + "n" * 119, "Ensure this value has at most 120 characters (it has 121)."),
    (
        "decimal",
        "123456.7",
        "Ensure that there are no more than 5 digits before the decimal point.",
    ),
    # Rounded to 3 places as the database rounds it, this carries into a sixth whole digit.
    ("decimal", "99999.9999", "no more than 5 digits before the decimal point"),
    ("decimal", "1E+10", "no more than 5 digits before the decimal point"),
    ("decimal", "-123456", "no more than 5 digits before the decimal point"),
    # Hostile magnitudes are refused from the exponent, without building the number.
    ("decimal", "1E+999999", "no more than 5 digits before the decimal point"),
    ("decimal", "-9E+999999999", "no more than 5 digits before the decimal point"),
    ("ip", "not an ip", "Enter a valid IPv4 or IPv6 address."),
    ("ip", "999.1.1.1", "Enter a valid IPv4 or IPv6 address."),
]


@pytest.mark.parametrize(("column", "value", "message"), REFUSED_BY_THE_DATABASE)
def test_a_value_its_column_cannot_store_fails_the_row_and_rolls_back(
    existing, column, value, message
):
    result = NullableTypesResource().import_data(two_rows(column, value))
    number, error = only_row_error(result)
    assert number == 2
    assert isinstance(error.error, FieldConstraintError)
    assert isinstance(error.error, DataError)  # what PostgreSQL raised under upstream
    assert (error.column, error.value) == (column, value)
    described = error.describe()
    # Long values are quoted shortened (error_text.VALUE_LIMIT); the message is not.
    assert described.startswith(f"Row 2, column '{column}' (value {shorten_value(value)!r}): ")
    assert message in described
    assert stored() == existing  # the good first row was rolled back too


@pytest.mark.parametrize(("column", "value", "message"), REFUSED_BY_THE_DATABASE[:2])
def test_raise_errors_raises_for_a_value_its_column_cannot_store(column, value, message):
    from import_export.exceptions import ImportError as ImportExportError

    with pytest.raises(ImportExportError) as raised:
        NullableTypesResource().import_data(two_rows(column, value), raise_errors=True)
    assert raised.value.number == 2
    assert isinstance(raised.value.error, FieldConstraintError)
    assert not NullableTypes.objects.exists()


def test_a_stored_decimal_with_too_many_digits_would_break_every_read_of_the_table():
    """The control for the decimal check: what SQLite does when nothing checks the value."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL refuses the value itself")
    NullableTypes.objects.bulk_create([NullableTypes(decimal=Decimal("123456.7"))])
    with pytest.raises(ArithmeticError):
        list(NullableTypes.objects.values_list("decimal"))


def test_text_length_is_checked_in_bulk_mode_too(existing):
    class Bulk(NullableTypesResource):
        class Meta(NullableTypesResource.Meta):
            use_bulk = True

    result = Bulk().import_data(two_rows("char", "x" * 21))
    number, error = only_row_error(result)
    assert number == 2 and error.column == "char"
    assert stored() == existing


def test_a_column_the_file_does_not_have_is_not_checked():
    """An update leaves the other columns as the database holds them, whatever they hold."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("only SQLite can hold the over-long value this needs")
    (legacy,) = NullableTypes.objects.bulk_create([NullableTypes(char="x" * 30, ip="junk")])
    update = tablib.Dataset([legacy.pk, "new text"], headers=["id", "text"])
    result = NullableTypesResource().import_data(update, raise_errors=True)
    assert result.totals["update"] == 1
    # The control: a file that does bring the column has it checked.
    again = tablib.Dataset([legacy.pk, "x" * 30], headers=["id", "char"])
    number, error = only_row_error(NullableTypesResource().import_data(again))
    assert (number, error.column) == (1, "char")


def test_the_first_bad_value_of_a_row_is_named(existing):
    dataset = tablib.Dataset(["", "x" * 21, "not an ip"], headers=["id", "char", "ip"])
    number, error = only_row_error(NullableTypesResource().import_data(dataset))
    assert (number, error.column) == (1, "char")


# ---- values Django converts: validated the way Django validates them ----------------------------


@pytest.mark.parametrize(
    "text", [UUID_TEXT, UUID_TEXT.replace("-", ""), "{" + UUID_TEXT + "}", "urn:uuid:" + UUID_TEXT]
)
def test_every_uuid_spelling_django_reads_imports_into_a_non_key_uuid_field(text):
    # Django's internal max_length=32 of UUIDField is the hex form it stores, not a limit of the
    # text: the 36-character dashed form must import (the issue 10 regression).
    result = PulpContentResource().import_data(
        tablib.Dataset(
            [str(uuid.uuid4()), "core.content", text, "{}"],
            headers=["pulp_id", "pulp_type", "upstream_id", "pulp_labels"],
        ),
        raise_errors=True,
    )
    assert result.totals["new"] == 1
    assert PulpContent.objects.get().upstream_id == uuid.UUID(UUID_TEXT)


def test_a_bad_uuid_is_a_validation_error_naming_the_column(existing):
    # Upstream's save raises Django's ValidationError for it: a validation error there too.
    result = NullableTypesResource().import_data(two_rows("uuid", "not-a-uuid"))
    assert not result.has_errors()
    (invalid,) = result.invalid_rows
    assert invalid.number == 2
    assert invalid.field_specific_errors == {"uuid": ["“not-a-uuid” is not a valid UUID."]}
    assert result.error_messages() == [
        "Row 2, column 'uuid' (value 'not-a-uuid'): “not-a-uuid” is not a valid UUID."
    ]
    # As upstream, valid rows stay unless rollback_on_validation_errors is set.
    assert len(stored()) == len(existing) + 1


def test_a_bad_uuid_rolls_back_with_rollback_on_validation_errors(existing):
    NullableTypesResource().import_data(two_rows("uuid", "zz"), rollback_on_validation_errors=True)
    assert stored() == existing


@pytest.mark.parametrize("column", ["uuid", "ip"])
def test_an_empty_cell_in_a_nullable_converted_field_imports_as_null(column):
    result = NullableTypesResource().import_data(two_rows(column, ""), raise_errors=True)
    assert result.totals["new"] == 2
    assert list(NullableTypes.objects.values_list(column, flat=True)) == [None, None]


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("ip", "2001:0db8::0001", "2001:db8::1"),
        ("ip", "::ffff:10.0.0.1", "::ffff:10.0.0.1"),
        ("decimal", "12345.678", Decimal("12345.678")),
        ("decimal", "-99999.9994", Decimal("-99999.999")),
        ("decimal", "0.0004", Decimal("0.000")),
        ("char", "x" * 20, "x" * 20),
        ("text", "y" * 5000, "y" * 5000),
        ("file", "f/" + "n" * 118, "f/" + "n" * 118),
        # Not checked without clean_model_instances, as upstream: the database stores them.
        ("slug", "not a slug!", "not a slug!"),
        ("email", "not-an-email", "not-an-email"),
        ("url", "not a url", "not a url"),
    ],
)
def test_values_upstream_imports_are_imported(column, value, expected):
    NullableTypesResource().import_data(two_rows(column, value), raise_errors=True)
    assert NullableTypes.objects.order_by("pk").values_list(column, flat=True)[1] == expected


def test_extra_decimal_places_are_rounded_as_upstream_not_refused():
    NullableTypesResource().import_data(two_rows("decimal", "1.2345"), raise_errors=True)
    value = NullableTypes.objects.order_by("pk").values_list("decimal", flat=True)[1]
    # SQLite rounds half to even, PostgreSQL half away from zero; both keep three places.
    assert value in (Decimal("1.234"), Decimal("1.235"))


def test_choices_are_not_checked_without_clean_model_instances():
    # Upstream checks choices only in full_clean(); so does the fork.
    fake_field = models.CharField(max_length=5, choices=[("a", "A")])
    fake_field.set_attributes_from_name("kind")
    check = field_constraints._check_for(fake_field, "kind")
    instance = type("Row", (), {"kind": "zzz"})()
    constraints = field_constraints.FieldConstraints([check])
    assert constraints.validation_errors(instance) == {}
    constraints.check_storable(instance)  # no error: "zzz" fits five characters


@pytest.mark.parametrize(
    ("meta", "column", "value"),
    [
        ({"clean_model_instances": True}, "char", "x" * 21),
        ({"clean_model_instances": True}, "decimal", "123456.7"),
        ({"clean_model_instances": True}, "ip", "not an ip"),
        ({"clean_model_instances": True}, "uuid", "not-a-uuid"),
    ],
)
def test_with_clean_model_instances_full_clean_reports_them_first(meta, column, value):
    resource = resources.modelresource_factory(NullableTypes, meta_options=meta)()
    result = resource.import_data(two_rows(column, value))
    assert not result.has_errors()
    (invalid,) = result.invalid_rows
    assert list(invalid.field_specific_errors) == [column]


class PulpPackageResource(resources.ModelResource):
    class Meta:
        model = PulpPackage
        exclude = ("pulpcontent_ptr",)
        import_id_fields = ("pulp_id",)


def package_rows(**second):
    headers = ["pulp_id", "pulp_type", "upstream_id", "name", "version", "arch", "server"]
    first = [str(uuid.UUID(int=1)), "rpm.package", UUID_TEXT, "bash", "5", "x86_64", ""]
    row = dict(zip(headers, first), pulp_id=str(uuid.UUID(int=2)), upstream_id="", **second)
    return tablib.Dataset(first, [row[h] for h in headers], headers=headers)


@pytest.mark.parametrize(
    ("column", "value"),
    [("arch", "a" * 21), ("pulp_type", "t" * 129), ("server", "10.0.0.256")],
)
def test_a_multi_table_child_checks_its_own_and_its_parents_columns(column, value):
    result = PulpPackageResource().import_data(package_rows(**{column: value}))
    number, error = only_row_error(result)
    assert (number, error.column, error.value) == (2, column, value)
    assert not PulpContent.objects.exists()  # neither the first row nor any parent row


def test_a_multi_table_child_imports_its_parents_uuid_column():
    result = PulpPackageResource().import_data(package_rows(), raise_errors=True)
    assert result.totals["new"] == 2
    upstream_ids = PulpPackage.objects.order_by("pulp_id").values_list("upstream_id", flat=True)
    assert list(upstream_ids) == [uuid.UUID(UUID_TEXT), None]


# ---- the checker itself ---------------------------------------------------------------------


def test_the_checker_is_built_once_per_model_and_field_set():
    first = NullableTypesResource()._field_constraints()
    assert NullableTypesResource()._field_constraints() is first
    assert PulpContentResource()._field_constraints() is not first


def test_the_checker_follows_a_change_of_the_resources_fields():
    from import_export.fields import Field

    resource = PulpContentResource()
    before = resource._field_constraints()
    assert resource._field_constraints() is before
    resource.fields["pulp_type"] = Field(attribute="pulp_type", column_name="type", readonly=True)
    after = resource._field_constraints()
    assert after is not before
    del resource.fields["pulp_type"]
    assert resource._field_constraints() is not after


def test_the_checker_needs_no_query_per_row():
    from django.db import connection

    resource = NullableTypesResource()
    instance = NullableTypes(char="x" * 21, uuid=UUID_TEXT, ip="1.2.3.4", decimal=Decimal(1))
    with CaptureQueriesContext(connection) as queries:
        constraints = resource._field_constraints()
        constraints.validation_errors(instance)
        with pytest.raises(FieldConstraintError):
            constraints.check_storable(instance)
    assert len(queries) == 0


def test_uuid_and_ip_fields_get_no_length_check():
    constraints = constraints_for(NullableTypes, NullableTypesResource().fields)
    instance = NullableTypes(
        uuid="urn:uuid:" + UUID_TEXT, ip="0000:0000:0000:0000:0000:0000:0000:0001"
    )
    assert constraints.validation_errors(instance) == {}
    constraints.check_storable(instance)


def test_keys_relations_and_readonly_fields_are_left_out():
    class Readonly(resources.ModelResource):
        class Meta:
            model = PulpContent
            fields = ("pulp_id", "upstream_id", "domain")

    resource = Readonly()
    resource.fields["upstream_id"].readonly = True
    constraints = constraints_for(PulpContent, resource.fields)
    assert not constraints
    instance = PulpContent(pulp_id="bad", upstream_id="bad", domain=PulpDomain(name="d"))
    assert constraints.validation_errors(instance) == {}


# ---- what a person sees ---------------------------------------------------------------------


def test_the_admin_preview_shows_the_row_error_and_offers_no_confirmation(
    admin_client, tmp_path, monkeypatch
):
    import tempfile

    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.models import Book

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    content = b"id,name\n,Fine\n," + b"x" * 101 + b"\n"
    response = admin_client.post(
        "/admin/core/book/import/",
        {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("b.csv", content)},
    )
    assert response.status_code == 200
    assert response.context["result"].has_errors()
    assert "confirm_form" not in response.context
    html = response.content.decode()
    assert "Line number: 2 - Ensure this value has at most 100 characters (it has 101)." in html
    assert not Book.objects.exists()


def test_the_import_command_lists_each_problem_with_row_and_column(tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "hostile.csv"
    path.write_text(
        "id,char,uuid,decimal\n,ok,,1.5\n," + "x" * 25 + ",,2\n,fine,zz,3\n,y,,123456.7\n"
    )
    from io import StringIO

    errors = StringIO()
    with pytest.raises((CommandError, SystemExit)):
        call_command(
            "import",
            "core.NullableTypes",
            str(path),
            format="csv",
            interactive=False,
            stderr=errors,
        )
    output = errors.getvalue()
    assert "Row 2, column 'char' (value '" + "x" * 25 + "')" in output
    assert "Row 3, column 'uuid' (value 'zz'): “zz” is not a valid UUID." in output
    assert "Row 4, column 'decimal' (value '123456.7')" in output
    assert not NullableTypes.objects.exists()
