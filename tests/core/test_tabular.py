"""core.tabular: uploaded files read as streams, checked as a whole, cells checked and typed, rejects written back.

Every file is built here, in the format and encoding under test."""
import csv
import datetime
import io
import tracemalloc
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from hypothesis import given, strategies as st

from core import bulk, tabular
from core.errors import client_detail, is_business_error
from core.tabular import (
    CellError, HeaderRules, InvalidRowsWriter, TabularError, detect_encoding, is_formula, neutralise, open_table,
    parse_bool, parse_cells, parse_date, parse_decimal, parse_int, write_invalid_rows,
)

PEOPLE = [("José", "Müller", "1980-01-02"), ("Françoise", "Nuñez", "1990-03-04"), ("Renée", "Gonçalves", "2001-12-31")]
RULES = HeaderRules(required=["first_name", "last_name", "dob"], allowed=["id", "email"])


def csv_bytes(rows, encoding="utf-8", delimiter=",", header=("first_name", "last_name", "dob")):
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def read_all(source, **kwargs):
    with open_table(source, **kwargs) as table:
        return table, list(table)


def problems_of(source, **kwargs):
    with pytest.raises(TabularError) as caught:
        read_all(source, **kwargs)
    return caught.value


# ---------------------------------------------------------------------------------------------------- encodings
@pytest.mark.parametrize("encoding, detected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252"), ("latin-1", "cp1252"),
    ("utf-16", "utf-16"),
])
def test_csv_in_each_encoding_reads_the_accented_names(encoding, detected):
    table, rows = read_all(io.BytesIO(csv_bytes(PEOPLE, encoding)), rules=RULES)
    assert table.format == "csv"
    assert table.encoding == detected
    assert table.header == ["first_name", "last_name", "dob"]  # no BOM left on the first name
    assert [tuple(r.cells) for r in rows] == PEOPLE
    assert [r.number for r in rows] == [2, 3, 4]
    assert rows[0].values == {"first_name": "José", "last_name": "Müller", "dob": "1980-01-02"}
    assert all(r.is_valid for r in rows)


def test_legacy_encoding_setting_decides_between_look_alike_code_pages(settings):
    polish = "first_name,last_name\nŁukasz,Wąsowski\nZofia,Żółć\n".encode("cp1250")
    assert detect_encoding(polish) == "cp1250"  # recognisable: detection wins
    western = csv_bytes(PEOPLE, "cp1252")
    assert detect_encoding(western) == "cp1252"
    settings.UPLOAD_LEGACY_ENCODING = "cp1250"
    assert detect_encoding(western) == "cp1250"


def test_invalid_utf8_after_the_sample_is_a_clear_encoding_error():
    good = csv_bytes([("Ann", "Lee", "1980-01-02")] * 5000)  # well past the 64 KiB sample
    data = good + "Zoë,Brandão,1980-01-02\r\n".encode("cp1252")
    error = problems_of(io.BytesIO(data), rules=RULES)
    assert error.codes == ["encoding"]
    assert "not valid utf-8" in error.messages[0]


def test_explicit_encoding_wins():
    _, rows = read_all(io.BytesIO(csv_bytes(PEOPLE, "cp1252")), encoding="latin-1")
    assert rows[1].cells[0] == "Françoise"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_sniffed(delimiter):
    rows = [("Ana", "Silva, da", "1980-01-02")]  # a comma inside a quoted cell does not mislead
    table, read = read_all(io.BytesIO(csv_bytes(rows, delimiter=delimiter)), rules=RULES)
    assert table.delimiter == delimiter
    assert read[0].values["last_name"] == "Silva, da"


def test_leading_blank_lines_and_spaces_before_the_header():
    data = b"\r\n   \r\n  first_name;last_name;dob\r\nAnn;Lee;1980-01-02\r\n"
    table, rows = read_all(io.BytesIO(data), rules=RULES)
    assert table.delimiter == ";" and table.header == ["first_name", "last_name", "dob"]
    assert rows[0].number == 4 and rows[0].values["dob"] == "1980-01-02"
    _, rows = read_all(io.BytesIO(b"a|b\n1|2\n"), delimiter="|")
    assert rows[0].values == {"a": "1", "b": "2"}


def test_quoted_newline_and_blank_rows():
    data = b'first_name,last_name,dob\r\n"Ann\nMarie",Lee,1980-01-02\r\n,,\r\n\r\nBo,Li,1981-01-01\r\n'
    _, rows = read_all(io.BytesIO(data), rules=RULES)
    assert [r.values["first_name"] for r in rows] == ["Ann\nMarie", "Bo"]
    assert [r.number for r in rows] == [2, 5]  # csv record numbers: blank rows skipped but counted


# ---------------------------------------------------------------------------------------------------- sources
def test_django_uploaded_files_and_paths(tmp_path):
    data = csv_bytes(PEOPLE)
    path = tmp_path / "people.csv"
    path.write_bytes(data)
    uploaded = TemporaryUploadedFile("people.csv", "text/csv", len(data), None)
    uploaded.write(data)
    for source in (SimpleUploadedFile("people.csv", data), uploaded, str(path), path):
        _, rows = read_all(source, rules=RULES)
        assert len(rows) == 3
    uploaded.close()


# ---------------------------------------------------------------------------------------------------- spreadsheets
def xlsx_bytes(rows, header=("first_name", "last_name", "dob", "amount", "active")):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_dates_numbers_booleans_and_formula_cells():
    data = xlsx_bytes([
        ("José", "Müller", datetime.date(1980, 1, 2), 12, True),
        ("Ann", "Lee", datetime.datetime(1990, 3, 4, 0, 0), 12.5, False),
        ("Bo", "=HYPERLINK(\"http://x\")", datetime.datetime(1990, 3, 4, 10, 30), 1e20, None),
        ("Cy", "Ng", "1999-09-09", "=1+1", None),
    ])
    table, rows = read_all(io.BytesIO(data), rules=HeaderRules(required=["first_name", "dob"]))
    assert table.format == "xlsx" and table.encoding is None
    assert rows[0].cells == ["José", "Müller", "1980-01-02", "12", "true"]
    assert rows[1].cells == ["Ann", "Lee", "1990-03-04", "12.5", "false"]
    assert rows[2].cells[2:4] == ["1990-03-04T10:30:00", "100000000000000000000"]
    assert rows[0].is_valid and rows[1].is_valid
    assert rows[2].errors == ["last_name: formula cells are not accepted (enter the value itself)"]
    assert rows[2].cells[1] == '=HYPERLINK("http://x")'  # kept for the invalid-rows file
    assert rows[3].errors == ["amount: formula cells are not accepted (enter the value itself)"]
    assert parse_date(rows[0].values["dob"]) == datetime.date(1980, 1, 2)


XLSX_ROWS = [
    ("José", "Müller", datetime.date(1980, 1, 2), 12, True),
    ("Ann", "Lee", datetime.datetime(1990, 3, 4, 0, 0), 12.5, False),
    ("Bo", "-5", datetime.datetime(1990, 3, 4, 10, 30), 1e20, None),
]
XLSX_CELLS = [
    ["José", "Müller", "1980-01-02", "12", "true"],
    ["Ann", "Lee", "1990-03-04", "12.5", "false"],
    ["Bo", "-5", "1990-03-04T10:30:00", "100000000000000000000", ""],
]


@pytest.mark.parametrize("in_memory", [True, False])
def test_xlsx_without_formulas_reads_the_same_through_calamine_and_openpyxl(monkeypatch, in_memory):
    if not in_memory:
        monkeypatch.setattr(tabular, "XLSX_IN_MEMORY_BYTES", 0)  # too big for calamine: openpyxl streams it
    _, rows = read_all(io.BytesIO(xlsx_bytes(XLSX_ROWS)), rules=HeaderRules(required=["first_name", "dob"]))
    assert [r.cells for r in rows] == XLSX_CELLS
    assert all(r.is_valid for r in rows)


@pytest.mark.parametrize("in_memory", [True, False])
def test_xlsx_declared_size_above_the_row_limit_is_refused_before_reading(monkeypatch, in_memory):
    if not in_memory:
        monkeypatch.setattr(tabular, "XLSX_IN_MEMORY_BYTES", 0)
    data = xlsx_bytes([("A", "B", "2000-01-01", 1, True)] * 20)
    error = problems_of(io.BytesIO(data), max_rows=10)
    assert error.codes == ["too_many_rows"]


def ods_bytes(rows, formula=False):
    """A minimal OpenDocument spreadsheet, written by hand (no ODS writer among the dependencies)."""
    def cell(value):
        if isinstance(value, datetime.date):
            return (f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
                    f"<text:p>{value.isoformat()}</text:p></table:table-cell>")
        if isinstance(value, (int, float)):
            return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                    f"<text:p>{value}</text:p></table:table-cell>")
        if formula and str(value).startswith("="):
            return (f'<table:table-cell table:formula="of:{value}" office:value-type="float" office:value="2">'
                    "<text:p>2</text:p></table:table-cell>")
        return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'

    body = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Sheet1">'
        f"{body}</table:table></office:spreadsheet></office:body></office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)
    return out.getvalue()


def test_ods_is_read():
    data = ods_bytes([("first_name", "last_name", "dob", "n"), ("José", "Müller", datetime.date(1980, 1, 2), 3)])
    table, rows = read_all(io.BytesIO(data), rules=HeaderRules(required=["first_name", "dob"]))
    assert table.format == "ods"
    assert rows[0].cells == ["José", "Müller", "1980-01-02", "3"]
    with_formula = ods_bytes([("first_name", "n"), ("Ann", "=1+1")], formula=True)
    assert problems_of(io.BytesIO(with_formula)).codes == ["formula_cells"]


def test_damaged_xls_and_unknown_zip_and_wrong_declared_format():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    assert problems_of(io.BytesIO(ole)).codes == ["unreadable"]
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert problems_of(io.BytesIO(other_zip.getvalue())).codes == ["unsupported_format"]
    assert problems_of(io.BytesIO(csv_bytes(PEOPLE)), fmt="xlsx").codes == ["unsupported_format"]


# ---------------------------------------------------------------------------------------------------- bad files
@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", "\ufeff".encode("utf-8"), b",,,\n,,\n"])
def test_empty_file(data):
    error = problems_of(io.BytesIO(data), rules=RULES)
    assert error.codes == ["empty_file"]
    assert error.messages == ["Import file is empty"]  # the spec's sentence


def test_header_only():
    assert problems_of(io.BytesIO(csv_bytes([])), rules=RULES).codes == ["no_data_rows"]
    assert problems_of(io.BytesIO(xlsx_bytes([]))).codes == ["no_data_rows"]


def test_every_header_problem_at_once():
    header = ("first_name", " first_name ", "dob", "", "nickname", "shoe_size", "")
    error = problems_of(io.BytesIO(csv_bytes([("a",) * 7], header=header)), rules=RULES)
    assert error.codes == ["duplicate_column", "blank_column_name", "unknown_column", "unknown_column",
                           "missing_column"]
    assert error.columns("unknown_column") == ["nickname", "shoe_size"]
    assert error.columns("missing_column") == ["last_name"]
    assert error.columns("duplicate_column") == ["first_name"]
    assert "Required column 'last_name' is missing." in error.messages


def test_unknown_columns_ignored_when_asked():
    rules = HeaderRules(required=["first_name", "last_name", "dob"], unknown="ignore", allowed=[])
    data = csv_bytes([("Ann", "x", "Lee", "1980-01-02")], header=("first_name", "extra", "last_name", "dob"))
    table, rows = read_all(io.BytesIO(data), rules=rules)
    assert table.columns == ["first_name", "last_name", "dob"] and table.ignored_columns == ["extra"]
    assert rows[0].values == {"first_name": "Ann", "last_name": "Lee", "dob": "1980-01-02"}
    assert rows[0].cells == ["Ann", "x", "Lee", "1980-01-02"]  # the original cells stay whole


def test_case_rules():
    header = ("First_Name", "LAST_NAME", "dob", "ID")
    assert problems_of(io.BytesIO(csv_bytes([("a",) * 4], header=header)), rules=RULES).codes == [
        "unknown_column", "unknown_column", "unknown_column", "missing_column", "missing_column"]
    folded = HeaderRules(required=["first_name", "last_name", "dob"], allowed=["id"], case_sensitive=False)
    table, _ = read_all(io.BytesIO(csv_bytes([("a",) * 4], header=header)), rules=folded)
    assert table.columns == ["first_name", "last_name", "dob", "id"]  # renamed to the declared spelling
    dup = csv_bytes([("a",) * 4], header=("first_name", "last_name", "dob", "DOB"))
    assert problems_of(io.BytesIO(dup), rules=folded).codes == ["duplicate_column"]


def test_too_big_refused_before_reading(settings):
    data = csv_bytes(PEOPLE)
    error = problems_of(io.BytesIO(data), max_bytes=len(data) - 1)
    assert error.codes == ["too_large"] and "above the limit" in error.messages[0]
    settings.UPLOAD_MAX_BYTES = 10
    assert problems_of(io.BytesIO(data)).codes == ["too_large"]


def test_too_many_rows_raises_at_the_first_row_past_the_limit(settings):
    settings.UPLOAD_MAX_ROWS = 2
    with open_table(io.BytesIO(csv_bytes(PEOPLE))) as table:
        read = []
        with pytest.raises(TabularError) as caught:
            for row in table:
                read.append(row)
    assert caught.value.codes == ["too_many_rows"] and len(read) == 2
    _, rows = read_all(io.BytesIO(csv_bytes(PEOPLE[:2])))  # exactly at the limit is fine
    assert len(rows) == 2


def test_formula_nul_and_extra_cells_make_the_row_invalid():
    rows = [
        ("=cmd|' /C calc'!A0", "Lee", "1980-01-02"),
        ("Ann", "@SUM(A1)", "1980-01-02"),
        ("Bo", "+1+2", "-2+3"),
        ("Cy\x00", "Ng", "1980-01-02"),
        ("Di", "-", "+263 77 123 4567"),
        ("Ed", "Ko", "1980-01-02", "surplus"),
    ]
    _, read = read_all(io.BytesIO(csv_bytes(rows)), rules=RULES)
    assert read[0].errors == ["first_name: looks like a spreadsheet formula (starts with '=')"]
    assert read[1].errors == ["last_name: looks like a spreadsheet formula (starts with '@')"]
    assert len(read[2].errors) == 2
    assert read[3].errors == ["first_name: contains a NUL character"] and read[3].cells[0] == "Cy"
    assert read[4].is_valid
    assert read[5].errors == ["the row has 4 cells but the header only 3 columns"]


@pytest.mark.parametrize("text, formula", [
    ("=1+1", True), (" =1", True), ("@SUM(A1)", True), ("+cmd|x", True), ("-2+3", True), ("-A1", True),
    ("-5", False), ("-12.5", False), ("+263 77 123 4567", False), ("+1 (555) 010-999", False), ("-", False),
    ("", False), ("Ann", False), ("a=b", False),
])
def test_is_formula(text, formula):
    assert is_formula(text) is formula


# ---------------------------------------------------------------------------------------------------- errors
def test_tabular_error_is_a_business_error_with_every_message():
    error = problems_of(io.BytesIO(csv_bytes([("a",)], header=("x", "x"))), rules=RULES)
    assert is_business_error(error)
    detail = client_detail(error)
    assert "Column 'x' appears more than once" in detail and "Required column 'dob' is missing." in detail


# ---------------------------------------------------------------------------------------------------- typed cells
def test_parse_date():
    assert parse_date("2020-02-29") == datetime.date(2020, 2, 29)
    assert parse_date(" 2020-02-29T00:00:00 ") == datetime.date(2020, 2, 29)
    assert parse_date("") is None and parse_date(None) is None
    for bad in ("29/02/2020", "2020-2-9", "20200229", "2020-02-29T10:00:00", "yesterday"):
        with pytest.raises(CellError, match="is not a date in the format YYYY-MM-DD"):
            parse_date(bad)
    with pytest.raises(CellError, match="is not a valid date"):
        parse_date("2021-02-29")


def test_parse_numbers_and_booleans():
    assert parse_int("-42") == -42 and parse_int(" 7 ") == 7 and parse_int("") is None
    for bad in ("1,000", "1.0", "1e3", "seven"):
        with pytest.raises(CellError, match="not a whole number"):
            parse_int(bad)
    with pytest.raises(CellError, match="too large"):
        parse_int(str(2**63))
    assert parse_decimal("12.50") == Decimal("12.50") and parse_decimal("-.5") == Decimal("-0.5")
    for bad in ("1,5", "1e3", "NaN", "Infinity", "12.5.1"):
        with pytest.raises(CellError, match="not a number"):
            parse_decimal(bad)
    with pytest.raises(CellError, match="more than 2 decimal places"):
        parse_decimal("1.005", places=2)
    assert parse_bool("Yes") is True and parse_bool("FALSE") is False and parse_bool("0") is False
    with pytest.raises(CellError, match="not a yes/no value"):
        parse_bool("maybe")


def test_parse_cells_gives_every_reason_of_a_row():
    values = {"first_name": "", "dob": "02/01/1980", "children": "two", "income": "10.5", "active": "y"}
    parsed, reasons = parse_cells(values, {"dob": "date", "children": "int", "income": "decimal",
                                           "active": "bool"}, required=["first_name"])
    assert reasons == ["first_name: required", "dob: '02/01/1980' is not a date in the format YYYY-MM-DD",
                       "children: 'two' is not a whole number"]
    assert parsed == {"income": Decimal("10.5"), "active": True}


def test_wrong_date_format_in_a_file_is_reported_per_row():
    data = csv_bytes([("Ann", "Lee", "1980-01-02"), ("Bo", "Li", "02.01.1980")])
    _, rows = read_all(io.BytesIO(data), rules=RULES)
    reasons = [parse_cells(r.values, {"dob": "date"})[1] for r in rows]
    assert reasons == [[], ["dob: '02.01.1980' is not a date in the format YYYY-MM-DD"]]


@given(st.dates())
def test_parse_date_round_trips_every_iso_date(day):
    assert parse_date(day.isoformat()) == day


@given(st.dates())
def test_parse_date_refuses_other_day_first_forms(day):
    with pytest.raises(CellError):
        parse_date(day.strftime("%d/%m/%Y"))


@given(st.integers(min_value=-10**18, max_value=10**18))
def test_parse_int_round_trips(number):
    assert parse_int(str(number)) == number


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**12, max_value=10**12))
def test_parse_decimal_round_trips(number):
    assert parse_decimal(format(number, "f")) == number


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_spreadsheet_numbers_become_parseable_text(number):
    assert parse_decimal(tabular.cell_text(number)) == Decimal(repr(number))


# ---------------------------------------------------------------------------------------------------- invalid rows
def test_invalid_rows_writer_neutralises_formulas():
    data = csv_bytes([("=cmd|' /C calc'!A0", "Lee", "1980-01-02"), ("Bo", "Li", "02.01.1980")])
    out = io.StringIO(newline="")
    with open_table(io.BytesIO(data), rules=RULES) as table:
        writer = InvalidRowsWriter(out, table.header)
        for row in table:
            _, reasons = parse_cells(row.values, {"dob": "date"})
            if row.errors or reasons:
                writer.write_row(row, reasons)
    written = list(csv.reader(io.StringIO(out.getvalue())))
    assert written[0] == ["row", "first_name", "last_name", "dob", "errors"]
    assert written[1] == ["2", "'=cmd|' /C calc'!A0", "Lee", "1980-01-02",
                          "first_name: looks like a spreadsheet formula (starts with '=')"]
    assert written[2] == ["3", "Bo", "Li", "02.01.1980", "dob: '02.01.1980' is not a date in the format YYYY-MM-DD"]
    assert writer.written == 2
    assert write_invalid_rows(io.StringIO(), ["a"], [(5, ["-1+1"], ["bad"])]) == 1


def test_exports_use_the_same_formula_guard():
    from core.gql import export

    assert export.neutralise is neutralise
    assert neutralise("@x") == "'@x" and neutralise(None) == "" and neutralise({"a": 1}) == '{"a": 1}'


# ---------------------------------------------------------------------------------------------------- memory
def test_reading_a_200k_row_csv_keeps_memory_flat(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("first_name,last_name,dob,id,email\r\n")
        for i in range(200_000):
            out.write(f"Person{i},Família{i},1980-01-{i % 28 + 1:02d},{i},p{i}@example.org\r\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        with open_table(path, rules=RULES) as table:
            count = sum(1 for row in table if row.is_valid)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert size > 9_000_000
    assert peak < size / 20, f"peak {peak} bytes while reading a {size}-byte file"


# --- the cycle collector while a table is open ----------------------------------------------------------------
def test_an_open_table_runs_the_collector_less_often_and_closing_it_restores_the_thresholds():
    import gc

    before = gc.get_threshold()
    with open_table(csv_bytes(PEOPLE)) as table:
        assert gc.get_threshold() == (bulk.YOUNG_GENERATION_THRESHOLD, *before[1:])
        assert [row.values["first_name"] for row in table] == ["José", "Françoise", "Renée"]
    assert gc.get_threshold() == before


def test_two_tables_open_at_once_share_the_setting_and_the_last_one_closed_restores_it():
    import gc

    before = gc.get_threshold()
    first = open_table(csv_bytes(PEOPLE)).__enter__()
    second = open_table(csv_bytes(PEOPLE)).__enter__()
    first.close()
    first.close()  # closing twice leaves the second reader's setting alone
    assert gc.get_threshold()[0] == bulk.YOUNG_GENERATION_THRESHOLD
    second.close()
    assert gc.get_threshold() == before


def test_a_failure_while_the_rows_are_read_restores_the_thresholds():
    import gc

    before = gc.get_threshold()
    with pytest.raises(ZeroDivisionError):
        with open_table(csv_bytes(PEOPLE)):
            1 / 0
    assert gc.get_threshold() == before
