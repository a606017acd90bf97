"""The Format classes: what each one declares, how it reads and writes, and its settings."""

import datetime
import io
import json
from unittest import mock

import openpyxl
import pytest
import tablib
from django.test import override_settings
from tablib.core import UnsupportedFormat

from import_export.formats import base_formats
from import_export.formats.streaming.buffered import BufferedStreamWriter
from import_export.formats.streaming.csv import CSVStreamWriter, TSVStreamWriter
from import_export.formats.streaming.html import HTMLStreamWriter
from import_export.formats.streaming.json import JSONStreamWriter
from import_export.formats.streaming.xlsx import XLSXStreamWriter
from import_export.formats.streaming.yaml import YAMLStreamWriter

ESCAPE_SETTING = "IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT"
ILLEGAL_SETTING = "IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT"
BLANK_LINES_SETTING = "IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES"

# format class, extension, content type, binary, read mode, writer class (None = buffered)
FORMAT_FACTS = [
    (base_formats.CSV, "csv", "text/csv", False, "r", CSVStreamWriter),
    (base_formats.TSV, "tsv", "text/tab-separated-values", False, "r", TSVStreamWriter),
    (base_formats.JSON, "json", "application/json", False, "r", JSONStreamWriter),
    (base_formats.YAML, "yaml", "text/yaml", False, "r", YAMLStreamWriter),
    (base_formats.HTML, "html", "text/html", False, "r", HTMLStreamWriter),
    (
        base_formats.XLSX,
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        True,
        "rb",
        XLSXStreamWriter,
    ),
    (base_formats.XLS, "xls", "application/vnd.ms-excel", True, "rb", None),
    # Upstream declares ODS a text format although its files are zip archives; kept as is.
    (
        base_formats.ODS,
        "ods",
        "application/vnd.oasis.opendocument.spreadsheet",
        False,
        "r",
        None,
    ),
]
ALL_FORMATS = [facts[0] for facts in FORMAT_FACTS]
TEXT_OUTPUT = [base_formats.CSV, base_formats.TSV, base_formats.JSON, base_formats.YAML]
TEXT_OUTPUT.append(base_formats.HTML)
BYTES_OUTPUT = [base_formats.XLSX, base_formats.XLS, base_formats.ODS]


def by_name(value):
    return value.__name__ if isinstance(value, type) else None


def sample_dataset():
    dataset = tablib.Dataset(headers=["id", "name", "formula"])
    dataset.append([1, "Ada", "=1+2"])
    dataset.append([2, None, "==twice"])
    return dataset


# -- the plain Format ------------------------------------------------------------------------


class TestFormat:
    def test_capabilities_default_to_nothing(self):
        plain = base_formats.Format()
        assert plain.get_title() is base_formats.Format
        assert plain.is_binary() and plain.get_read_mode() == "rb"
        assert plain.get_extension() == ""
        assert plain.get_content_type() == "application/octet-stream"
        assert base_formats.Format.is_available()
        assert not plain.can_import() and not plain.can_export() and not plain.can_stream()

    def test_reading_and_writing_are_left_to_subclasses(self):
        with pytest.raises(NotImplementedError):
            base_formats.Format().create_dataset("a,b")
        with pytest.raises(NotImplementedError):
            base_formats.Format().export_data(tablib.Dataset())

    def test_custom_format_streams_through_the_buffered_writer(self):
        class Pipes(base_formats.Format):
            def export_data(self, dataset, **kwargs):
                lines = [dataset.headers] + [list(row) for row in dataset]
                return "".join("|".join(map(str, line)) + "\n" for line in lines)

        stream = io.BytesIO()
        writer = Pipes().get_stream_writer(stream, ["a", "b"])
        assert isinstance(writer, BufferedStreamWriter)
        writer.start()
        writer.write_row([1, 2])
        assert stream.getvalue() == b""  # buffered: nothing until the end
        writer.end()
        assert stream.getvalue() == b"a|b\n1|2\n"


class TestTablibFormat:
    def test_a_format_without_module_says_so(self):
        with pytest.raises(AttributeError, match="TABLIB_MODULE"):
            base_formats.TablibFormat().get_format()

    @pytest.mark.parametrize("error", [ImportError, UnsupportedFormat])
    def test_missing_library_makes_a_format_unavailable(self, error):
        with mock.patch.object(base_formats.YAML, "get_format", side_effect=error):
            assert not base_formats.YAML.is_available()
            assert not base_formats.YAML().can_stream()

    def test_encoding_is_kept(self):
        assert base_formats.CSV(encoding="latin-1").encoding == "latin-1"
        assert base_formats.CSV().encoding is None

    def test_title_comes_from_tablib(self):
        assert base_formats.TSV().get_title() == "tsv"
        assert base_formats.XLSX().get_title() == "xlsx"


# -- what each format declares ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("format_class", "extension", "content_type", "binary", "read_mode", "writer_class"),
    FORMAT_FACTS,
    ids=by_name,
)
def test_format_declarations(
    format_class, extension, content_type, binary, read_mode, writer_class
):
    instance = format_class()
    assert format_class.is_available()
    assert instance.get_extension() == extension
    assert instance.get_content_type() == content_type
    assert instance.is_binary() is binary
    assert instance.get_read_mode() == read_mode
    assert instance.get_title() == extension
    assert instance.can_import() and instance.can_export()
    assert instance.can_stream() is (writer_class is not None)


@pytest.mark.parametrize(
    ("format_class", "writer_class"),
    [(facts[0], facts[5] or BufferedStreamWriter) for facts in FORMAT_FACTS],
    ids=by_name,
)
def test_each_format_hands_out_its_writer(format_class, writer_class):
    writer = format_class().get_stream_writer(io.BytesIO(), ["a"])
    assert type(writer) is writer_class
    assert writer.rows_written == 0


def test_xls_writer_is_capped_at_one_sheet():
    with_header = base_formats.XLS().get_stream_writer(io.BytesIO(), ["a"])
    without_header = base_formats.XLS().get_stream_writer(io.BytesIO(), [])
    assert with_header.max_rows == 65535 and without_header.max_rows == 65536


def test_default_and_binary_format_lists():
    assert base_formats.DEFAULT_FORMATS == [
        base_formats.CSV,
        base_formats.XLS,
        base_formats.XLSX,
        base_formats.TSV,
        base_formats.ODS,
        base_formats.JSON,
        base_formats.YAML,
        base_formats.HTML,
    ]
    assert base_formats.BINARY_FORMATS == [base_formats.XLS, base_formats.XLSX, base_formats.ODS]


# -- export_data -----------------------------------------------------------------------------


@pytest.mark.parametrize("format_class", TEXT_OUTPUT, ids=by_name)
def test_text_formats_export_str(format_class):
    assert isinstance(format_class().export_data(sample_dataset()), str)


@pytest.mark.parametrize("format_class", BYTES_OUTPUT, ids=by_name)
def test_spreadsheet_formats_export_bytes(format_class):
    assert isinstance(format_class().export_data(sample_dataset()), bytes)


def test_csv_export_text():
    assert base_formats.CSV().export_data(sample_dataset()) == (
        "id,name,formula\r\n1,Ada,=1+2\r\n2,,==twice\r\n"
    )


def test_export_options_reach_tablib():
    exported = base_formats.CSV().export_data(sample_dataset(), delimiter=";")
    assert exported.splitlines()[0] == "id;name;formula"


def test_html_cells_are_escaped():
    dataset = tablib.Dataset(["<b>&</b>"], headers=["a<"])
    exported = base_formats.HTML().export_data(dataset)
    assert exported == (
        "<table><thead><tr><th>a&lt;</th></tr></thead>"
        "<tbody><tr><td>&lt;b&gt;&amp;&lt;/b&gt;</td></tr></tbody></table>"
    )


def test_yaml_rows_are_flow_mappings():
    dataset = tablib.Dataset(["1", "x"], headers=["id", "name"])
    assert base_formats.YAML().export_data(dataset) == "- {id: '1', name: x}\n"


# -- formula escaping ------------------------------------------------------------------------


@override_settings(**{ESCAPE_SETTING: True})
def test_escaping_removes_leading_equals_signs_and_stringifies_cells():
    dataset = sample_dataset()
    exported = base_formats.CSV().export_data(dataset)
    # One "=" goes, as upstream; so does the second one upstream left in place.
    assert exported == "id,name,formula\r\n1,Ada,1+2\r\n2,None,twice\r\n"
    # The dataset itself is rewritten, as upstream does; headers are not touched.
    assert dataset[0] == ("1", "Ada", "1+2") and dataset.headers == ["id", "name", "formula"]


#: Cells a spreadsheet would evaluate (OWASP's CSV injection list) and what escaping makes of
#: them: leading "=" removed, then an apostrophe before any other formula character.
ESCAPED_FORMULAE = {
    "=1+2": "1+2",
    "==1+2": "1+2",
    '==HYPERLINK("http://example.com/x","click")': 'HYPERLINK("http://example.com/x","click")',
    "=-1+2": "'-1+2",
    "==+1": "'+1",
    "+1+2": "'+1+2",
    "++cmd": "'++cmd",
    "-2+3": "'-2+3",
    "-5": "'-5",
    "@SUM(A1:A2)": "'@SUM(A1:A2)",
    "\t=1+2": "'\t=1+2",
    "\r=1+2": "'\r=1+2",
    "=\t=1": "'\t=1",
    "==": "",
}
FORMULA_CELLS = list(ESCAPED_FORMULAE)


@pytest.mark.parametrize("cell", FORMULA_CELLS, ids=repr)
@override_settings(**{ESCAPE_SETTING: True})
def test_escaped_cells_never_start_a_formula(cell):
    exported = base_formats.JSON().export_data(tablib.Dataset([cell, "ok"], headers=["f", "t"]))
    escaped = json.loads(exported)[0]["f"]
    assert escaped == ESCAPED_FORMULAE[cell]
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("cell", ["a=1", " =1", "'=1", "1-2", "x@y", "", "None"], ids=repr)
@override_settings(**{ESCAPE_SETTING: True})
def test_escaping_leaves_cells_that_do_not_start_a_formula(cell):
    exported = base_formats.JSON().export_data(tablib.Dataset([cell], headers=["f"]))
    assert json.loads(exported) == [{"f": cell}]


@pytest.mark.parametrize("value", [False, "True", 1, None])
def test_escaping_needs_the_setting_to_be_exactly_true(value):
    with override_settings(**{ESCAPE_SETTING: value}):
        exported = base_formats.JSON().export_data(sample_dataset())
    assert '"=1+2"' in exported and '"id": 1' in exported


def test_escape_keyword_overrides_the_setting():
    with override_settings(**{ESCAPE_SETTING: True}):
        kept = base_formats.CSV().export_data(sample_dataset(), escape_formulae=False)
    with override_settings(**{ESCAPE_SETTING: False}):
        escaped = base_formats.CSV().export_data(sample_dataset(), escape_formulae=True)
    assert ",=1+2" in kept and ",1+2" in escaped


@override_settings(**{ESCAPE_SETTING: True})
def test_escaped_xlsx_cells_are_text():
    dataset = tablib.Dataset(*[[cell] for cell in FORMULA_CELLS], headers=["formula"])
    content = base_formats.XLSX().export_data(dataset)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [cell.data_type for cell in cells if cell.data_type == "f"] == []
    # XML reads a carriage return back as a line feed; "==" became an empty cell.
    expected = [ESCAPED_FORMULAE[cell].replace("\r", "\n") for cell in FORMULA_CELLS]
    assert [cell.value or "" for cell in cells] == expected


# -- XLSX illegal characters -----------------------------------------------------------------


def control_character_dataset():
    return tablib.Dataset(["ring\x07bell", 5], headers=["text", "number"])


@override_settings(**{ILLEGAL_SETTING: False})
def test_xlsx_control_characters_fail_without_echoing_the_value():
    with pytest.raises(ValueError, match="IllegalCharacterError") as caught:
        base_formats.XLSX().export_data(control_character_dataset())
    assert "ring" not in str(caught.value)


@override_settings(**{ILLEGAL_SETTING: True})
def test_xlsx_control_characters_are_replaced_when_enabled():
    content = base_formats.XLSX().export_data(control_character_dataset())
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert [cell.value for cell in sheet[2]] == ["ring\N{REPLACEMENT CHARACTER}bell", 5]


@override_settings(**{ILLEGAL_SETTING: True, ESCAPE_SETTING: True})
def test_xlsx_formula_escaping_is_applied_once_with_illegal_characters():
    dataset = tablib.Dataset(["==a", "x\x01"], headers=["f", "t"])
    content = base_formats.XLSX().export_data(dataset)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet["A2"].value == "a"


# -- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("format_class", TEXT_OUTPUT, ids=by_name)
def test_text_round_trip(format_class):
    dataset = tablib.Dataset(["1", "Ada"], ["2", 'Zoë, "Z"'], headers=["id", "name"])
    exported = format_class().export_data(dataset)
    loaded = format_class().create_dataset(exported)
    assert loaded.headers == ["id", "name"]
    assert [list(row) for row in loaded] == [["1", "Ada"], ["2", 'Zoë, "Z"']]


def test_json_round_trip_keeps_types():
    dataset = tablib.Dataset([1, 2.5, True, None], headers=["i", "f", "b", "n"])
    loaded = base_formats.JSON().create_dataset(base_formats.JSON().export_data(dataset))
    assert loaded.dict == [{"i": 1, "f": 2.5, "b": True, "n": None}]


def test_text_formats_decode_bytes_with_their_encoding():
    content = "name\nZoë\n".encode("latin-1")
    loaded = base_formats.CSV(encoding="latin-1").create_dataset(content)
    assert loaded.dict == [{"name": "Zoë"}]


def test_create_dataset_options_reach_tablib():
    loaded = base_formats.CSV().create_dataset("skip me\na;b\n1;2\n", delimiter=";", skip_lines=1)
    assert loaded.headers == ["a", "b"] and loaded[0] == ("1", "2")


def test_xlsx_round_trip_keeps_types():
    dataset = tablib.Dataset(
        [1, "Ada", datetime.datetime(2024, 5, 1, 9, 30)], headers=["i", "n", "d"]
    )
    loaded = base_formats.XLSX().create_dataset(base_formats.XLSX().export_data(dataset))
    assert loaded.headers == ["i", "n", "d"]
    assert loaded[0] == (1, "Ada", datetime.datetime(2024, 5, 1, 9, 30))


def xlsx_bytes(rows):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_reads_formula_results_not_formulae():
    content = xlsx_bytes([["total"], ["=1+1"]])
    loaded = base_formats.XLSX().create_dataset(content)
    # openpyxl stores no cached result, so the data-only value is empty, not the formula.
    assert loaded[0] == (None,)


def test_xlsx_opens_the_workbook_read_only_and_data_only():
    content = xlsx_bytes([["a"], [1]])
    with mock.patch("openpyxl.load_workbook", wraps=openpyxl.load_workbook) as load:
        base_formats.XLSX().create_dataset(content)
    assert load.call_args.kwargs == {"read_only": True, "data_only": True}


@pytest.mark.parametrize(("ignore", "expected_rows"), [(False, 4), (True, 2)])
def test_xlsx_blank_lines_follow_the_setting(ignore, expected_rows):
    content = xlsx_bytes([["a", "b"], [1, 2], [None, None], [None, None], [3, 4]])
    with override_settings(**{BLANK_LINES_SETTING: ignore}):
        loaded = base_formats.XLSX().create_dataset(content)
    assert len(loaded) == expected_rows and loaded[-1] == (3, 4)


def test_xlsx_empty_sheet_gives_an_empty_dataset():
    loaded = base_formats.XLSX().create_dataset(xlsx_bytes([]))
    assert loaded.headers is None and len(loaded) == 0


def test_xls_round_trip_reads_the_first_sheet():
    dataset = tablib.Dataset([1, "Ada"], [2, "Bob"], headers=["id", "name"])
    loaded = base_formats.XLS().create_dataset(base_formats.XLS().export_data(dataset))
    assert loaded.headers == ["id", "name"]
    assert [list(row) for row in loaded] == [[1.0, "Ada"], [2.0, "Bob"]]


def test_xls_empty_sheet_gives_an_empty_dataset():
    import xlwt

    workbook = xlwt.Workbook()
    workbook.add_sheet("empty")
    buffer = io.BytesIO()
    workbook.save(buffer)
    loaded = base_formats.XLS().create_dataset(buffer.getvalue())
    assert len(loaded) == 0


def test_ods_round_trip():
    dataset = tablib.Dataset(["x", "y"], headers=["a", "b"])
    content = base_formats.ODS().export_data(dataset)
    loaded = base_formats.ODS().create_dataset(content)
    assert loaded.headers == ["a", "b"] and loaded[0] == ("x", "y")
