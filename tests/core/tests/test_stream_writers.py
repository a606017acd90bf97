"""The streamed export of each format must give the bytes of the classic ``export_data`` path.

The classic reference is always ``Format().export_data(tablib.Dataset(*rows, headers=headers))``
encoded with the writer's encoding; the streamed output is what a writer obtained from
``Format().get_stream_writer()`` wrote to a text or binary stream.
"""

import copy
import datetime
import decimal
import io
import uuid

import openpyxl
import pytest
import tablib
import yaml
from django.http import HttpResponse
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from import_export.exceptions import StreamingError
from import_export.formats import base_formats
from import_export.formats.streaming import RowLimitExceeded, StreamWriteError, is_text_stream
from import_export.formats.streaming.buffered import BufferedStreamWriter

TEXT_FORMATS = [base_formats.CSV, base_formats.TSV, base_formats.JSON, base_formats.YAML]
TEXT_FORMATS.append(base_formats.HTML)

ESCAPE_SETTING = "IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT"
ILLEGAL_SETTING = "IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT"

# -- data strategies -------------------------------------------------------------------------

tricky_text = st.text(
    alphabet=st.sampled_from(list("ab=,;\"'\t\n\r -:#&<>{}[]é€\u2028")), max_size=12
)
text_values = st.one_of(
    st.text(max_size=20),
    tricky_text,
    tricky_text.map(lambda text: "=" + text),
    st.just(""),
)
json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
utc = datetime.UTC
common_values = st.one_of(
    st.none(),
    text_values,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(timezones=st.none() | st.just(utc)),
    st.times(),
    st.lists(json_like, max_size=3),
    st.dictionaries(st.text(max_size=5), json_like, max_size=3),
)
# PyYAML's safe dumper cannot represent Decimal or UUID (the classic export raises, see
# test_yaml_unrepresentable_value_raises_in_both_paths), so they are drawn for the others only.
values_with_decimals = st.one_of(
    common_values,
    st.decimals(allow_nan=False, places=3),
    st.uuids(),
)
headers_strategy = st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=5)


@st.composite
def tables(draw, values=values_with_decimals, max_rows=6, headers=headers_strategy):
    """Random headers and rows of the same width."""
    headers = draw(headers)
    row = st.lists(values, min_size=len(headers), max_size=len(headers))
    rows = draw(st.lists(row, max_size=max_rows))
    # Objects must not be shared between rows (see the YAML writer's note on aliases).
    return headers, [copy.deepcopy(row) for row in rows]


# -- helpers ---------------------------------------------------------------------------------


def classic_export(format_class, headers, rows, **kwargs):
    dataset = tablib.Dataset(*[list(row) for row in rows], headers=headers)
    return format_class().export_data(dataset, **kwargs)


def stream_export(format_class, headers, rows, stream, **options):
    writer = format_class().get_stream_writer(stream, headers, **options)
    writer.start()
    for row in rows:
        writer.write_row(row)
    writer.end()
    assert writer.rows_written == len(rows)
    return stream.getvalue()


def outcome(function, *args, **kwargs):
    """("ok", result) or ("error", exception) so two paths can be compared."""
    try:
        return "ok", function(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the comparison wants any failure
        return "error", exc


def assert_same_output(format_class, headers, rows, binary, encoding="utf-8"):
    classic_status, classic = outcome(classic_export, format_class, headers, rows)
    stream = io.BytesIO() if binary else io.StringIO()
    options = {"encoding": encoding} if binary else {}
    streamed_status, streamed = outcome(
        stream_export, format_class, headers, rows, stream, **options
    )
    if classic_status == "error":
        assert streamed_status == "error", f"classic raised {classic!r}, streaming did not"
        return
    assert streamed_status == "ok", f"streaming raised {streamed!r}"
    expected = classic.encode(encoding) if binary else classic
    assert streamed == expected


def xlsx_sheet_snapshot(content: bytes):
    """Everything in a sheet the two paths must agree on (the zip bytes hold timestamps)."""
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    cells = [
        [(cell.value, cell.font.b, cell.alignment.wrap_text) for cell in row]
        for row in sheet.iter_rows()
    ]
    widths = {letter: dimension.width for letter, dimension in sheet.column_dimensions.items()}
    return {"title": sheet.title, "freeze": sheet.freeze_panes, "cells": cells, "widths": widths}


# -- byte identity, property based -----------------------------------------------------------

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(
    "format_class",
    [base_formats.CSV, base_formats.TSV, base_formats.JSON, base_formats.HTML],
    ids=lambda cls: cls.__name__,
)
@FAST
@given(table=tables(), escape=st.booleans(), binary=st.booleans())
def test_streamed_bytes_equal_classic_export(format_class, table, escape, binary):
    headers, rows = table
    with override_settings(**{ESCAPE_SETTING: escape}):
        assert_same_output(format_class, headers, rows, binary)


@FAST
@given(table=tables(values=common_values), escape=st.booleans(), binary=st.booleans())
def test_streamed_yaml_equals_classic_export(table, escape, binary):
    headers, rows = table
    with override_settings(**{ESCAPE_SETTING: escape}):
        assert_same_output(base_formats.YAML, headers, rows, binary)


@pytest.mark.parametrize("format_class", TEXT_FORMATS, ids=lambda cls: cls.__name__)
@settings(max_examples=10, deadline=None)
@given(table=tables(values=common_values, max_rows=3))
def test_byte_order_marks_are_written_once(format_class, table):
    headers, rows = table
    for encoding in ("utf-8-sig", "utf-16"):
        assert_same_output(format_class, headers, rows, binary=True, encoding=encoding)


# -- byte identity, chosen cases ------------------------------------------------------------

SAMPLE_HEADERS = ["id", "name", "price", "when", "extra"]
SAMPLE_ROWS = [
    [1, 'say "hi", then\nleave', decimal.Decimal("9.99"), datetime.date(2024, 2, 29), None],
    [2, '=HYPERLINK("http://x")', 1.5, datetime.datetime(2024, 1, 1, 8, 30), {"a": [1, 2]}],
    [3, "tab\there ünïcode €", True, datetime.date(1999, 12, 31), ["x", datetime.time(23, 59)]],
    [4, "", -0.0, datetime.datetime(2024, 1, 1, tzinfo=utc), uuid.UUID(int=7)],
]


@pytest.mark.parametrize("format_class", TEXT_FORMATS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("escape", [False, True], ids=["plain", "escaped"])
@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_sample_rows_are_identical(format_class, escape, binary):
    headers, rows = SAMPLE_HEADERS, SAMPLE_ROWS
    if format_class is base_formats.YAML and not escape:
        keep = [0, 1, 3]  # PyYAML's safe dumper cannot represent Decimal or UUID
        headers = [headers[index] for index in keep]
        rows = [[row[index] for index in keep] for row in rows]
    with override_settings(**{ESCAPE_SETTING: escape}):
        classic = classic_export(format_class, headers, rows)
        streamed = stream_export(
            format_class, headers, rows, io.BytesIO() if binary else io.StringIO()
        )
    assert streamed == (classic.encode() if binary else classic)
    if escape:
        assert "=HYPERLINK" not in classic and "HYPERLINK" in classic and "'-0.0" in classic


@pytest.mark.parametrize("format_class", TEXT_FORMATS, ids=lambda cls: cls.__name__)
def test_empty_export_matches_classic(format_class):
    streamed = stream_export(format_class, ["a", "b"], [], io.StringIO())
    assert streamed == classic_export(format_class, ["a", "b"], [])


def test_empty_json_and_yaml_are_empty_lists():
    assert stream_export(base_formats.JSON, ["a"], [], io.StringIO()) == "[]"
    assert stream_export(base_formats.YAML, ["a"], [], io.StringIO()) == "[]\n"


@pytest.mark.parametrize("format_class", TEXT_FORMATS, ids=lambda cls: cls.__name__)
def test_export_without_headers_matches_classic(format_class):
    rows = [[1, "x"], [2, None]]
    streamed = stream_export(format_class, [], rows, io.StringIO())
    assert streamed == classic_export(format_class, [], rows)


def test_explicit_escape_option_overrides_the_setting():
    rows = [["=1+2", None]]
    with override_settings(**{ESCAPE_SETTING: False}):
        escaped = stream_export(
            base_formats.CSV, ["a", "b"], rows, io.StringIO(), escape_formulae=True
        )
    with override_settings(**{ESCAPE_SETTING: True}):
        plain = stream_export(
            base_formats.CSV, ["a", "b"], rows, io.StringIO(), escape_formulae=False
        )
    assert escaped == "a,b\r\n1+2,None\r\n"
    assert plain == "a,b\r\n=1+2,\r\n"


@override_settings(**{ESCAPE_SETTING: "yes"})
def test_only_a_true_setting_enables_escaping():
    assert stream_export(base_formats.CSV, ["a"], [["=x"]], io.StringIO()) == "a\r\n=x\r\n"


def test_csv_options_reach_the_csv_writer_like_export_data():
    rows = [["a;b", 1]]
    streamed = stream_export(base_formats.CSV, ["x", "y"], rows, io.StringIO(), delimiter=";")
    assert streamed == classic_export(base_formats.CSV, ["x", "y"], rows, delimiter=";")
    assert streamed == 'x;y\r\n"a;b";1\r\n'


def test_yaml_aliases_inside_a_row_are_numbered_as_in_the_classic_export():
    first, second = [1, 2], {"k": "v"}
    rows = [[first, first], ["plain", None], [second, second]]
    streamed = stream_export(base_formats.YAML, ["a", "b"], rows, io.StringIO())
    classic = classic_export(base_formats.YAML, ["a", "b"], rows)
    assert streamed == classic
    assert "&id001" in streamed and "&id002" in streamed


def test_yaml_object_shared_between_rows_is_repeated_not_aliased():
    shared = [1, 2]
    rows = [[shared], [shared]]
    streamed = stream_export(base_formats.YAML, ["a"], rows, io.StringIO())
    classic = classic_export(base_formats.YAML, ["a"], rows)
    assert "*id001" in classic and "&" not in streamed
    assert yaml.safe_load(streamed) == yaml.safe_load(classic)


def test_yaml_long_rows_wrap_like_the_classic_export():
    rows = [["word " * 40, "x" * 90, "short"] for _ in range(3)]
    streamed = stream_export(base_formats.YAML, ["a", "b", "c"], rows, io.StringIO())
    assert streamed == classic_export(base_formats.YAML, ["a", "b", "c"], rows)
    assert streamed.count("\n") > len(rows)


def test_yaml_unrepresentable_value_raises_in_both_paths():
    rows = [[decimal.Decimal("1.5")]]
    with pytest.raises(yaml.YAMLError):
        classic_export(base_formats.YAML, ["a"], rows)
    writer = base_formats.YAML().get_stream_writer(io.StringIO(), ["a"])
    writer.start()
    with pytest.raises(StreamWriteError, match="row 1"):
        writer.write_row(rows[0])


def test_json_value_it_cannot_encode_names_the_row():
    writer = base_formats.JSON().get_stream_writer(io.StringIO(), ["a"])
    writer.start()
    writer.write_row([1])
    with pytest.raises(StreamWriteError, match=r"row 2.*object"):
        writer.write_row([object()])


# -- targets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_stream", "expected"),
    [
        (io.StringIO, True),
        (io.BytesIO, False),
        (HttpResponse, False),
        (lambda: type("Mode", (), {"mode": "w", "write": print})(), True),
        (lambda: type("Mode", (), {"mode": "wb", "write": print})(), False),
        (lambda: type("Bare", (), {"write": print})(), False),
    ],
    ids=["StringIO", "BytesIO", "HttpResponse", "mode-w", "mode-wb", "no-mode"],
)
def test_text_or_binary_target_detection(make_stream, expected):
    assert is_text_stream(make_stream()) is expected


@pytest.mark.parametrize("format_class", TEXT_FORMATS, ids=lambda cls: cls.__name__)
def test_files_opened_in_text_and_binary_mode(tmp_path, format_class):
    rows = [[1, "é"], [2, "x"]]
    expected = classic_export(format_class, ["a", "b"], rows)
    text_path, binary_path = tmp_path / "text", tmp_path / "binary"
    with open(text_path, "w", encoding="utf-8", newline="") as handle:
        stream_export_to(format_class, ["a", "b"], rows, handle)
    with open(binary_path, "wb") as handle:
        stream_export_to(format_class, ["a", "b"], rows, handle)
    assert text_path.read_bytes() == binary_path.read_bytes() == expected.encode()


def stream_export_to(format_class, headers, rows, stream, **options):
    writer = format_class().get_stream_writer(stream, headers, **options)
    writer.start()
    for row in rows:
        writer.write_row(row)
    writer.end()


def test_spooled_temporary_file_modes_are_detected():
    import tempfile

    with tempfile.SpooledTemporaryFile(mode="w+") as text_file:
        assert is_text_stream(text_file)
    with tempfile.SpooledTemporaryFile(mode="w+b") as binary_file:
        assert not is_text_stream(binary_file)


def test_stream_kind_can_be_given_explicitly():
    import codecs

    buffer = io.BytesIO()
    text_writer = codecs.getwriter("utf-16-le")(buffer)
    assert not is_text_stream(text_writer)  # nothing tells it apart from a binary stream
    stream_export_to(base_formats.CSV, ["n"], [["é"]], text_writer, text_stream=True)
    assert buffer.getvalue() == "n\r\né\r\n".encode("utf-16-le")


def test_http_response_receives_encoded_bytes():
    response = HttpResponse(content_type="text/csv")
    stream_export_to(base_formats.CSV, ["name"], [["Zoë"]], response)
    assert response.content == "name\r\nZoë\r\n".encode()


def test_format_encoding_is_used_for_binary_targets():
    stream = io.BytesIO()
    writer = base_formats.CSV(encoding="latin-1").get_stream_writer(stream, ["n"])
    writer.start()
    writer.write_row(["é"])
    writer.end()
    assert stream.getvalue() == "n\r\né\r\n".encode("latin-1")


def test_unencodable_value_names_the_row():
    writer = base_formats.CSV().get_stream_writer(io.BytesIO(), ["n"], encoding="ascii")
    writer.start()
    with pytest.raises(StreamWriteError, match="row 1"):
        writer.write_row(["€"])


# -- incremental behaviour and protocol ----------------------------------------------------


@pytest.mark.parametrize("format_class", TEXT_FORMATS, ids=lambda cls: cls.__name__)
def test_rows_reach_the_stream_before_end(format_class):
    stream = io.StringIO()
    writer = format_class().get_stream_writer(stream, ["name", "city"])
    assert writer.incremental and format_class().can_stream()
    writer.start()
    writer.write_row(["first-marker", "x"])
    after_first = stream.getvalue()
    writer.write_row(["second-marker", "y"])
    after_second = stream.getvalue()
    assert "first-marker" in after_first and "second-marker" not in after_first
    assert "second-marker" in after_second
    writer.end()


def test_wrong_row_width_names_the_row_and_values():
    writer = base_formats.CSV().get_stream_writer(io.StringIO(), ["a", "b"])
    writer.start()
    writer.write_row([1, 2])
    with pytest.raises(StreamWriteError, match=r"Row 2 has 3 values .* 2 columns: \[1, 2, 3\]"):
        writer.write_row([1, 2, 3])


def test_protocol_order_is_enforced():
    writer = base_formats.JSON().get_stream_writer(io.StringIO(), ["a"])
    with pytest.raises(StreamingError, match="start"):
        writer.write_row([1])
    writer.start()
    with pytest.raises(StreamingError, match="already"):
        writer.start()
    writer.end()
    with pytest.raises(StreamingError, match="end"):
        writer.write_row([1])


def test_unknown_option_is_rejected():
    with pytest.raises(TypeError, match="colour"):
        base_formats.JSON().get_stream_writer(io.StringIO(), ["a"], colour="red")


def test_misspelt_encoding_fails_before_writing():
    with pytest.raises(LookupError):
        base_formats.CSV().get_stream_writer(io.BytesIO(), ["a"], encoding="utf-42")


# -- XLSX ------------------------------------------------------------------------------------

xlsx_values = st.one_of(
    st.none(),
    text_values,
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.dates(min_value=datetime.date(1901, 1, 1)),
    st.datetimes(min_value=datetime.datetime(1901, 1, 1)).map(
        lambda moment: moment.replace(microsecond=0)
    ),
    st.lists(json_like, max_size=2),
)


# Control characters in headers make the classic export fail even with escaping on (it only
# cleans data rows); field names never hold them, so they are not drawn.
xlsx_headers = st.lists(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=10),
    min_size=1,
    max_size=4,
)


def export_both_xlsx(headers, rows, **options):
    classic = classic_export(base_formats.XLSX, headers, rows, **options)
    streamed = stream_export(base_formats.XLSX, headers, rows, io.BytesIO(), **options)
    return xlsx_sheet_snapshot(classic), xlsx_sheet_snapshot(streamed)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(values=xlsx_values, max_rows=4, headers=xlsx_headers), escape=st.booleans())
def test_xlsx_cells_equal_classic_export(table, escape):
    headers, rows = table
    with override_settings(**{ESCAPE_SETTING: escape, ILLEGAL_SETTING: True}):
        classic, streamed = export_both_xlsx(headers, rows)
    assert streamed == classic


def test_xlsx_sample_sheet_layout_matches_classic():
    headers = ["id", "a much longer header", "notes"]
    rows = [[1, "=1+1", "two\nlines"], [22222222, None, {"k": 1}]]
    classic, streamed = export_both_xlsx(headers, rows)
    assert streamed == classic
    assert streamed["title"] == "Tablib Dataset" and streamed["freeze"] == "A2"
    assert all(bold for _value, bold, _wrap in streamed["cells"][0])
    assert streamed["cells"][1][2] == ("two\nlines", False, True)
    assert streamed["cells"][2][2][0] == "{'k': 1}"
    assert streamed["widths"]["A"] == len("22222222")


def test_xlsx_widths_are_measured_on_the_first_rows_only():
    rows = [["short"], ["a value much longer than the others"]]
    content = stream_export(base_formats.XLSX, ["h"], rows, io.BytesIO(), width_sample_rows=1)
    snapshot = xlsx_sheet_snapshot(content)
    assert snapshot["widths"]["A"] == len("short")
    assert [row[0][0] for row in snapshot["cells"]] == ["h", "short", rows[1][0]]
    headerless = stream_export(base_formats.XLSX, [], rows, io.BytesIO(), width_sample_rows=1)
    assert xlsx_sheet_snapshot(headerless)["widths"]["A"] == len("short")


def test_xlsx_title_and_fixed_width_options():
    content = stream_export(
        base_formats.XLSX, ["h"], [[1]], io.BytesIO(), title="Books: 2024/25", column_width=20
    )
    snapshot = xlsx_sheet_snapshot(content)
    assert snapshot["title"] == "Books- 2024-25" and snapshot["widths"]["A"] == 20


def test_xlsx_empty_export_has_only_the_header_row():
    classic, streamed = export_both_xlsx(["a", "b"], [])
    assert streamed == classic
    assert [[value for value, _b, _w in row] for row in streamed["cells"]] == [["a", "b"]]


def test_xlsx_rejects_a_text_stream():
    with pytest.raises(StreamingError, match="binary"):
        base_formats.XLSX().get_stream_writer(io.StringIO(), ["a"])


@override_settings(**{ILLEGAL_SETTING: False})
def test_xlsx_illegal_characters_name_row_and_column_without_the_value():
    writer = base_formats.XLSX().get_stream_writer(io.BytesIO(), ["id", "name"])
    writer.start()
    writer.write_row([1, "fine"])
    with pytest.raises(StreamWriteError) as caught:
        writer.write_row([2, "secret\x07<script>"])
    message = str(caught.value)
    assert "row 2" in message and "'name'" in message and "secret" not in message
    assert isinstance(caught.value, ValueError)


@override_settings(**{ILLEGAL_SETTING: True})
def test_xlsx_illegal_characters_are_replaced_like_the_classic_export():
    classic, streamed = export_both_xlsx(["name"], [["bell\x07here"]])
    assert streamed == classic
    assert streamed["cells"][1][0][0] == "bell\N{REPLACEMENT CHARACTER}here"


def test_xlsx_timezone_aware_datetime_names_the_row():
    writer = base_formats.XLSX().get_stream_writer(io.BytesIO(), ["when"])
    writer.start()
    with pytest.raises(StreamWriteError, match=r"row 1, column 'when'.*timezone"):
        writer.write_row([datetime.datetime(2024, 1, 1, tzinfo=utc)])


def test_xlsx_writes_to_a_file(tmp_path):
    path = tmp_path / "out.xlsx"
    with open(path, "wb") as handle:
        stream_export_to(base_formats.XLSX, ["a"], [[1], [2]], handle)
    sheet = openpyxl.load_workbook(path).active
    assert [row[0].value for row in sheet.iter_rows()] == ["a", 1, 2]


# -- buffered formats ------------------------------------------------------------------------


def test_xls_buffered_output_equals_classic_bytes():
    rows = [[1, "x", 2.5], [2, "=y", None]]
    writer = base_formats.XLS().get_stream_writer(io.BytesIO(), ["a", "b", "c"])
    assert isinstance(writer, BufferedStreamWriter) and not writer.incremental
    assert not base_formats.XLS().can_stream()
    streamed = stream_export(base_formats.XLS, ["a", "b", "c"], rows, io.BytesIO())
    assert streamed == classic_export(base_formats.XLS, ["a", "b", "c"], rows)


def test_xls_refuses_the_row_that_does_not_fit():
    stream = io.BytesIO()
    writer = base_formats.XLS().get_stream_writer(stream, ["n"])
    writer.start()
    for number in range(65535):
        writer.write_row([number])
    with pytest.raises(RowLimitExceeded, match="data row 65,536: .* 65,535 data rows") as caught:
        writer.write_row([65535])
    assert isinstance(caught.value, ValueError)
    assert writer.rows_written == 65535 and stream.getvalue() == b""


def test_ods_buffered_output_reads_back():
    rows = [["x", "y"], ["z", "w"]]
    content = stream_export(base_formats.ODS, ["a", "b"], rows, io.BytesIO())
    dataset = tablib.Dataset().load(content, format="ods")
    assert dataset.headers == ["a", "b"] and [list(row) for row in dataset] == rows


def test_buffered_writer_passes_explicit_escape_to_export_data():
    with override_settings(**{ESCAPE_SETTING: False}):
        content = stream_export(
            base_formats.XLS, ["a"], [["=1+1"]], io.BytesIO(), escape_formulae=True
        )
    dataset = base_formats.XLS().create_dataset(content)
    assert dataset[0] == ("1+1",)


def test_buffered_binary_format_rejects_a_text_stream():
    with pytest.raises(StreamingError, match="binary"):
        base_formats.XLS().get_stream_writer(io.StringIO(), ["a"])


@override_settings(**{ESCAPE_SETTING: True})
def test_streamed_xlsx_stores_escaped_formulae_as_text_like_the_classic_file():
    # "==" used to lose only its first "=", leaving a live formula in both files.
    cells = ["==1+2", '==HYPERLINK("http://example.com")', "+1", "-1", "@A1", "\t=1"]
    escaped = ["1+2", 'HYPERLINK("http://example.com")', "'+1", "'-1", "'@A1", "'\t=1"]
    rows = [[cell] for cell in cells]
    streamed = stream_export(base_formats.XLSX, ["f"], rows, io.BytesIO())
    classic = classic_export(base_formats.XLSX, ["f"], rows)
    for content in (streamed, classic):
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        column = [row[0] for row in sheet.iter_rows(min_row=2)]
        assert [cell.data_type for cell in column] == ["s"] * len(cells)
        assert [cell.value for cell in column] == escaped
