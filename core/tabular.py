"""Reading uploaded tables (CSV, XLSX, XLS, ODS) as streams, for the import pipelines.

One entry point, :func:`open_table`: it checks the file's size, recognises its format from its content (never
from its name), reads and checks the header, makes sure there is at least one data row, and then yields
:class:`Row` objects one at a time, so a million-row file never sits in memory (CSV is streamed, and so is a large
XLSX or one with formulas, through openpyxl's read-only mode; XLS, ODS and small XLSX files are read by calamine,
which holds one sheet's values). Formulas: a CSV cell that would run as one, or an XLSX formula cell, makes its
row invalid; an ODS with formula cells is refused whole; XLS formula cells are read as their computed values
(calamine shows no formulas). Every problem with the file as a whole is collected and
raised together in one :class:`TabularError` (a Django ``ValidationError``, so its text reaches clients through
the error boundary); problems of one row (a formula, a NUL character, cells beyond the header) are listed on that
row and the pipeline decides what to do with it.

Cell values are handed over as text, the same for every format: empty cells are ``""``; spreadsheet dates become
``YYYY-MM-DD`` (``YYYY-MM-DDTHH:MM:SS`` when they carry a time), whole numbers lose their ``.0``, other numbers
are written without exponent, booleans are ``true``/``false``. The typed helpers (:func:`parse_date`,
:func:`parse_int`, :func:`parse_decimal`, :func:`parse_bool`, :func:`parse_cells`) turn that text into values
with one clear reason per bad cell. :class:`InvalidRowsWriter` writes the rejected rows back as CSV, with
spreadsheet formulas neutralised by :func:`neutralise` (the one guard, also used by the GraphQL exports).

Header rules (documented because they decide what "duplicate" and "unknown" mean): a column name is trimmed of
surrounding white space (and of a stray byte-order mark); names are case-sensitive by default, because the
specs distinguish ``id`` (added by the system) from ``ID`` (the key of an update file); with
``case_sensitive=False`` they are compared case-insensitively and renamed to the spelling the caller declared.
Empty header cells at the end of the header are ignored (spreadsheets often carry formatted empty columns); an
empty name between named columns is a problem. Rows whose cells are all empty are skipped (they still count in
the row numbers, which are the spreadsheet's: the header is row 1).

Limits come from settings, read at call time: ``UPLOAD_MAX_BYTES`` (file size, checked before anything is read),
``UPLOAD_MAX_ROWS`` (data rows; checked against the sheet's declared size when the format has one, and always
while streaming: the row past the limit raises), ``UPLOAD_LEGACY_ENCODING`` (the 8-bit code page assumed for a
CSV that is not UTF-8 when detection cannot tell the candidates apart; default ``cp1252``).
"""
import codecs
import csv
import datetime
import io
import itertools
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Iterator, Optional, Sequence

from django.conf import settings
from django.core.exceptions import ValidationError

from core.bulk import fewer_collections

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_ROWS = 2_000_000
DEFAULT_LEGACY_ENCODING = "cp1252"

FORMATS = ("csv", "xlsx", "xls", "ods")
SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t")
# A single cell larger than this is refused (csv's own default is 128 KiB; a registry row never needs more).
MAX_CELL_CHARS = 131072

# --------------------------------------------------------------------------------------------------------------
# Formula guard (output) and formula detection (input)
# --------------------------------------------------------------------------------------------------------------
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Spreadsheet formula injection guard for files we write: a cell that could be read as a formula gets a
    leading quote (OWASP's advice: every cell starting with ``= + - @``, tab or CR, numbers included)."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, default=str)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


# A leading + or - followed only by digits and number/phone punctuation is data ("-5", "+263 77 123 4567"),
# not a formula; anything else after it (letters, operators, quotes, "!") could be one.
_SIGNED_NUMBER = re.compile(r"[+-][\d\s().,/-]*\Z")


def is_formula(text):
    """Whether a text cell of an uploaded file would be run as a formula by a spreadsheet: it starts (after
    white space) with ``=`` or ``@``, or with ``+``/``-`` followed by more than a number or phone number."""
    stripped = text.lstrip(" \t\r\n")
    if not stripped:
        return False
    if stripped[0] in "=@":
        return True
    if stripped[0] in "+-":
        return len(stripped) > 1 and not _SIGNED_NUMBER.match(stripped)
    return False


# --------------------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One problem with a file as a whole. ``code`` is stable (pipelines map it to their spec's message):
    ``too_large``, ``too_many_rows``, ``empty_file``, ``no_data_rows``, ``unsupported_format``, ``unreadable``,
    ``encoding``, ``blank_column_name``, ``duplicate_column``, ``missing_column``, ``unknown_column``,
    ``cell_too_long``, ``formula_cells`` (ODS only: elsewhere a formula makes its row invalid)."""
    code: str
    message: str
    column: Optional[str] = None
    row: Optional[int] = None


class TabularError(ValidationError):
    """A file refused as a whole; ``problems`` lists every :class:`Problem` found (all at once where the
    problems are independent, e.g. every missing and every unknown column)."""

    def __init__(self, problems):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__([p.message for p in self.problems])

    @property
    def codes(self):
        return [p.code for p in self.problems]

    def columns(self, code):
        return [p.column for p in self.problems if p.code == code]


class CellError(ValueError):
    """A cell whose text is not a value of the expected type; ``reason`` is the sentence for the user."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------------------------------------------
# Rows and header rules
# --------------------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Row:
    """One data row. ``number`` is the spreadsheet row (header = 1); ``cells`` the original cells as text in the
    file's column order (padded to the header's width); ``values`` maps each kept column (canonical name) to its
    cell; ``errors`` the reasons the reader found (formula, NUL, cells beyond the header)."""
    number: int
    cells: list
    values: dict
    errors: list = field(default_factory=list)

    @property
    def is_valid(self):
        return not self.errors


@dataclass(frozen=True)
class HeaderRules:
    """What the header must hold. ``required``: columns that must be present; ``allowed``: the known columns
    (``None`` = any column is accepted; required columns are always allowed); ``unknown``: ``"refuse"`` (a
    problem per unknown column) or ``"ignore"`` (the column is dropped from ``Row.values``);
    ``case_sensitive``: see the module's header rules."""
    required: Sequence[str] = ()
    allowed: Optional[Sequence[str]] = None
    unknown: str = "refuse"
    case_sensitive: bool = True

    def __post_init__(self):
        if self.unknown not in ("refuse", "ignore"):
            raise ValueError("HeaderRules.unknown must be 'refuse' or 'ignore'")


def _setting(name, default):
    return getattr(settings, name, default)


def max_bytes_setting():
    return int(_setting("UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_rows_setting():
    return int(_setting("UPLOAD_MAX_ROWS", DEFAULT_MAX_ROWS))


def _human_bytes(n):
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024


def _too_many_rows(limit):
    return Problem("too_many_rows", f"The file has more than {limit} data rows, the limit.")


# --------------------------------------------------------------------------------------------------------------
# Sources: a path, a Django File / UploadedFile, or a binary file object
# --------------------------------------------------------------------------------------------------------------
def _binary(source):
    """(binary file object positioned at 0, whether we opened it)."""
    if isinstance(source, (str, os.PathLike)):
        return open(source, "rb"), True
    inner = getattr(source, "file", None)
    # Django's File wraps the real stream in .file; TemporaryUploadedFile's is a tempfile wrapper whose .file
    # is the OS file, which io.TextIOWrapper accepts.
    stream = source
    while inner is not None and hasattr(inner, "read"):
        stream, inner = inner, getattr(inner, "file", None)
    if isinstance(stream, (bytes, bytearray)):
        return io.BytesIO(stream), True
    stream.seek(0)
    return stream, False


def _size(stream):
    here = stream.tell()
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(here)
    return size


# Signatures of common documents that are no tables (PDF, PNG, JPEG, GIF, gzip, TIFF, RAR, 7z, RTF): any other
# content is taken for a CSV, and a PDF or an image may well decode as text (rows of garbage)
NOT_TABLES = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"II*\x00", b"MM\x00*",
              b"Rar!", b"7z\xbc\xaf", b"{\\rtf")


def detect_format(head):
    """The format from the file's first bytes, never from its name: ``"zip"`` (XLSX or ODS, or a zip we do not
    read: :func:`_zip_format` decides), ``"xls"`` (an OLE container: XLS, or a password-protected XLSX, which
    then fails with a clear message), ``"other"`` (a known document that is no table), else ``"csv"``."""
    if head.startswith(b"PK\x03\x04"):
        return "zip"  # told apart by _zip_format, which needs the whole stream
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if head.startswith(NOT_TABLES):
        return "other"
    return "csv"


def _zip_format(stream):
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mime = archive.read("mimetype").decode("ascii", "replace").strip()
                return "ods" if mime == "application/vnd.oasis.opendocument.spreadsheet" else None
            if "xl/workbook.xml" in names:
                return "xlsx"
            return None
    except zipfile.BadZipFile:
        return None
    finally:
        stream.seek(0)


# --------------------------------------------------------------------------------------------------------------
# CSV: encoding, delimiter
# --------------------------------------------------------------------------------------------------------------
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(sample, legacy=None):
    """The codec of a CSV from its first bytes: a byte-order mark decides (UTF-8/16/32); else UTF-8 when the
    sample is valid UTF-8 (plain ASCII included); else charset-normalizer's best guess, except that the
    deployment's legacy code page (``UPLOAD_LEGACY_ENCODING``, default cp1252: what Excel writes on Western
    Windows) wins a tie and is the fallback when detection finds nothing. ``None`` when no codec fits."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    legacy = legacy or _setting("UPLOAD_LEGACY_ENCODING", DEFAULT_LEGACY_ENCODING)
    from charset_normalizer import from_bytes

    matches = list(from_bytes(sample)) or list(from_bytes(sample, threshold=0.5))
    if matches:
        best = matches[0]
        wanted = codecs.lookup(legacy).name
        for match in matches:
            # Short Latin samples decode alike, or score alike, in cp1250, cp1252, cp1257…: the deployment's
            # choice decides between them.
            if (match.chaos, match.coherence) != (best.chaos, best.coherence):
                break
            if wanted in {codecs.lookup(c).name for c in (match.encoding, *match.could_be_from_charset)}:
                return legacy
        return best.encoding
    try:
        sample.decode(legacy)
        return legacy
    except UnicodeDecodeError:
        return None


def sniff_delimiter(line):
    """The delimiter of a CSV from its header line: the most frequent of comma, semicolon and tab outside
    quotes (comma when none occurs, i.e. a one-column file)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(stream, encoding, delimiter_hint=None):
    """(encoding, delimiter, iterator of (row number, list of str)) for a CSV stream."""
    sample = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    encoding = encoding or detect_encoding(sample)
    if encoding is None:
        raise TabularError(Problem("encoding", "The file's character encoding could not be recognised: "
                                               "save it as CSV UTF-8."))
    text = io.TextIOWrapper(stream, encoding=encoding, newline="", errors="strict")
    leading = []  # blank lines before the header, then the header line, which tells the delimiter
    try:
        while not leading or (leading[-1] and not leading[-1].strip()):
            leading.append(text.readline())
    except UnicodeDecodeError:
        text.detach()
        raise TabularError(Problem("encoding", f"The file is not valid {encoding} text: save it as CSV UTF-8."))
    delimiter = delimiter_hint or sniff_delimiter(leading[-1])
    lines = itertools.chain(leading, text)  # (not a generator: closing one would close the wrapper)
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', strict=False)

    def rows():
        # Row numbers are records (what a spreadsheet shows), not physical lines: a quoted cell may span lines.
        number = 0
        try:
            for number, cells in enumerate(reader, start=1):
                yield number, cells
        except UnicodeDecodeError:
            raise TabularError(Problem("encoding", f"The file is not valid {encoding} text after row {number}: "
                                                   "save it as CSV UTF-8.", row=number + 1)) from None
        except csv.Error as exc:
            if "field larger" in str(exc):
                raise TabularError(Problem("cell_too_long", f"Row {number + 1} has a cell longer than "
                                                            f"{MAX_CELL_CHARS} characters.", row=number + 1)) from None
            raise TabularError(Problem("unreadable", f"The CSV could not be read after row {number}: {exc}.",
                                       row=number + 1)) from None
        finally:
            text.detach()  # hand the binary stream back unclosed: its owner closes it

    return encoding, delimiter, rows()


# --------------------------------------------------------------------------------------------------------------
# Spreadsheets
# --------------------------------------------------------------------------------------------------------------
def cell_text(value):
    """A spreadsheet cell's value as the text a CSV would hold (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


_FORMULA_CELL = "\x00formula"  # marker that never occurs in data (NUL is refused anyway)


# XLSX: openpyxl's read-only mode streams the sheet but is slow (about 6,000 rows/s of nine columns here);
# calamine is about seven times faster but holds the sheet's values in memory and never shows formulas. So
# calamine reads a workbook without formula elements whose sheets' XML is at most this size (about 130,000 rows
# of nine columns, some 120 MB of memory); openpyxl streams the others and reports formulas row by row.
XLSX_IN_MEMORY_BYTES = 64 * 1024 * 1024
_XLSX_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _xlsx_fast_path(stream):
    """Whether calamine may read this XLSX: no formula element in any worksheet, and small enough."""
    try:
        with zipfile.ZipFile(stream) as archive:
            sheets = [i for i in archive.infolist()
                      if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml")]
            if sum(i.file_size for i in sheets) > XLSX_IN_MEMORY_BYTES:
                return False
            for info in sheets:
                with archive.open(info) as xml:
                    tail = b""
                    while chunk := xml.read(1024 * 1024):
                        if _XLSX_FORMULA.search(tail + chunk):
                            return False
                        tail = chunk[-16:]
        return True
    except zipfile.BadZipFile:
        return False  # openpyxl reports the damage
    finally:
        stream.seek(0)


def _xlsx_rows(stream):
    if _xlsx_fast_path(stream):
        return _calamine_rows(stream, "xlsx")
    import openpyxl

    try:
        # data_only=False: formula cells come back as their formula (data_type "f"), which we refuse.
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=False)
    except Exception as exc:  # zip/XML damage comes in many exception types
        raise TabularError(Problem("unreadable", f"The XLSX file could not be read ({exc.__class__.__name__}).")) \
            from None
    sheet = workbook.worksheets[0]
    try:
        declared = sheet.max_row if sheet.calculate_dimension(force=False) else None
    except Exception:
        declared = None

    def rows():
        try:
            for number, cells in enumerate(sheet.iter_rows(), start=1):
                values = []
                for cell in cells:
                    if getattr(cell, "data_type", None) == "f":
                        formula = cell.value
                        values.append(_FORMULA_CELL + str(getattr(formula, "text", formula) or ""))
                    else:
                        values.append(cell_text(cell.value))
                yield number, values
        finally:
            workbook.close()

    return declared, rows()


def _ods_has_formulas(stream):
    """Whether an ODS holds formula cells: calamine hands over only their computed values, so the XML is
    scanned for the formula attribute, chunk by chunk (a whole file is refused: rows cannot be told apart here)."""
    needle = b"table:formula="
    try:
        with zipfile.ZipFile(stream) as archive, archive.open("content.xml") as content:
            tail = b""
            while chunk := content.read(1024 * 1024):
                if needle in tail + chunk:
                    return True
                tail = chunk[-len(needle):]
    except (KeyError, zipfile.BadZipFile):
        return False  # calamine reports the damage
    finally:
        stream.seek(0)
    return False


def _calamine_rows(stream, fmt):
    from python_calamine import CalamineWorkbook

    if fmt == "ods" and _ods_has_formulas(stream):
        raise TabularError(Problem("formula_cells", "The ODS file contains formula cells: replace them by their "
                                                    "values (copy, then paste values only) and upload it again."))

    try:
        workbook = CalamineWorkbook.from_filelike(stream)
        sheet = workbook.get_sheet_by_index(0)
    except Exception as exc:
        raise TabularError(Problem(
            "unreadable", f"The {fmt.upper()} file could not be read (damaged or password-protected: "
                          f"{exc.__class__.__name__}).")) from None
    declared = sheet.total_height

    def rows():
        # XLS formulas: calamine hands over their computed values (never the formula text), so nothing runs.
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            yield number, [cell_text(None if c == "" else c) for c in cells]

    return declared, rows()


# --------------------------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------------------------
class Table:
    """An open upload. Attributes: ``format``, ``encoding`` and ``delimiter`` (CSV only), ``header`` (the
    names as written, trimmed), ``columns`` (canonical names of the kept columns, in file order),
    ``ignored_columns``. Iterate it (once) for :class:`Row` objects; ``rows_read`` counts the data rows yielded.
    Use it as a context manager (which also runs the cycle collector less often for the block:
    :func:`core.bulk.fewer_collections`), or call ``close()``."""

    def __init__(self, *, stream, owned, fmt, encoding, delimiter, header, keep, raw_rows, first, max_rows):
        self._stream, self._owned = stream, owned
        self.format, self.encoding, self.delimiter = fmt, encoding, delimiter
        self.header = header
        self._keep = keep  # [(index, canonical name)]
        self.columns = [name for _, name in keep]
        kept = {i for i, _ in keep}
        self.ignored_columns = [h for i, h in enumerate(header) if i not in kept and h]
        self._raw_rows, self._first, self._max_rows = raw_rows, first, max_rows
        self.rows_read = 0
        self._started = False
        self._collections = None

    def __enter__(self):
        # the caller's loop over the rows runs inside the block: it makes as many objects per row as the reading
        self._collections = fewer_collections()
        self._collections.__enter__()
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        collections, self._collections = self._collections, None
        if collections is not None:
            collections.__exit__(None, None, None)
        close = getattr(self._raw_rows, "close", None)
        if close:
            close()
        if self._owned:
            self._stream.close()

    def __iter__(self) -> Iterator[Row]:
        if self._started:
            raise RuntimeError("a Table is read once")
        self._started = True
        width = len(self.header)
        # All columns kept in file order (the usual case): values are a zip, not a per-cell lookup.
        plain = [i for i, _ in self._keep] == list(range(width))
        if self._first is not None:
            self.rows_read = 1
            yield self._make_row(*self._first, width, plain)
        for number, cells in self._raw_rows:
            if _blank(cells):
                continue
            if self.rows_read >= self._max_rows:
                raise TabularError(_too_many_rows(self._max_rows))
            self.rows_read += 1
            yield self._make_row(number, cells, width, plain)

    def _make_row(self, number, cells, width, plain):
        errors = []
        if len(cells) != width:
            if len(cells) > width and "".join(cells[width:]).strip():
                used = max(i for i, c in enumerate(cells) if c.strip()) + 1
                errors.append(f"the row has {used} cells but the header only {width} columns")
            cells = cells[:width] + [""] * (width - len(cells))
        # One C-level search per row finds the rare rows worth a look cell by cell (the reader's hot path).
        joined = "\x1f" + "\x1f".join(cells)
        if "\x00" in joined or _SUSPECT.search(joined) or len(joined) > MAX_CELL_CHARS:
            self._check_cells(cells, errors)
        if plain:
            values = dict(zip(self.columns, cells))
        else:
            values = {name: cells[i] for i, name in self._keep}
        return Row(number, cells, values, errors)

    def _check_cells(self, cells, errors):
        for index, value in enumerate(cells):
            column = self.header[index] or f"column {index + 1}"
            if value.startswith(_FORMULA_CELL):
                cells[index] = "=" + value[len(_FORMULA_CELL):].lstrip("=")
                errors.append(f"{column}: formula cells are not accepted (enter the value itself)")
                continue
            if "\x00" in value:
                cells[index] = value = value.replace("\x00", "")
                errors.append(f"{column}: contains a NUL character")
            if len(value) > MAX_CELL_CHARS:
                errors.append(f"{column}: longer than {MAX_CELL_CHARS} characters")
            elif is_formula(value):
                errors.append(f"{column}: looks like a spreadsheet formula (starts with {value.lstrip()[0]!r})")


# A cell that may start a formula, in the row's cells joined and prefixed with \x1f (a NUL, or the formula-cell
# marker, which starts with one, is looked for apart); a false alarm only costs the exact check.
_SUSPECT = re.compile(r"\x1f[ \t\r\n]*[=@+\-]")


def _blank(cells):
    return not "".join(cells).strip()


def check_header(raw_header, rules):
    """(header as trimmed names, [(index, canonical name)] of kept columns, problems) for a header row."""
    header = [h.replace("\ufeff", "").strip() for h in raw_header]
    while header and not header[-1]:
        header.pop()
    rules = rules or HeaderRules()
    fold = (lambda s: s) if rules.case_sensitive else (lambda s: s.casefold())
    declared = list(rules.required) + [c for c in (rules.allowed or ()) if c not in rules.required]
    canonical = {fold(c): c for c in declared}
    problems, keep, seen = [], [], {}
    for index, name in enumerate(header):
        if not name:
            problems.append(Problem("blank_column_name", f"Column {index + 1} of the header has no name.",
                                    column=""))
            continue
        key = fold(name)
        if key in seen:
            if seen[key] == 1:
                problems.append(Problem("duplicate_column", f"Column '{name}' appears more than once in the "
                                                            "header.", column=canonical.get(key, name)))
            seen[key] += 1
            continue
        seen[key] = 1
        if rules.allowed is None or key in canonical:
            keep.append((index, canonical.get(key, name)))
        elif rules.unknown == "refuse":
            problems.append(Problem("unknown_column", f"Unknown column '{name}'.", column=name))
    for column in rules.required:
        if fold(column) not in seen:
            problems.append(Problem("missing_column", f"Required column '{column}' is missing.", column=column))
    return header, keep, problems


def open_table(source, *, rules=None, fmt=None, encoding=None, delimiter=None, max_bytes=None, max_rows=None):
    """Open an uploaded table and check it; raises :class:`TabularError` with every problem found.

    ``source``: a path, a Django ``File``/``UploadedFile`` or a binary file object (read from its start, never
    closed by us); ``rules``: :class:`HeaderRules` (default: any columns, no duplicates); ``fmt``:
    force a format (``csv``, ``xlsx``, ``xls``, ``ods``); ``encoding`` / ``delimiter``: force a CSV codec /
    delimiter; ``max_bytes`` /
    ``max_rows``: override the settings."""
    max_bytes = max_bytes_setting() if max_bytes is None else max_bytes
    max_rows = max_rows_setting() if max_rows is None else max_rows
    stream, owned = _binary(source)
    try:
        return _open(stream, owned, rules, fmt, encoding, delimiter, max_bytes, max_rows)
    except BaseException:
        if owned:
            stream.close()
        raise


def _open(stream, owned, rules, fmt, encoding, delimiter, max_bytes, max_rows):
    size = _size(stream)
    if size > max_bytes:
        raise TabularError(Problem("too_large", f"The file is {_human_bytes(size)}, above the limit of "
                                                f"{_human_bytes(max_bytes)}."))
    if size == 0:
        raise TabularError(Problem("empty_file", "Import file is empty"))
    head = stream.read(8)
    stream.seek(0)
    detected = detect_format(head)
    if detected == "zip":
        detected = _zip_format(stream)
    if fmt and fmt != detected:
        raise TabularError(Problem("unsupported_format", f"The file's content is not {fmt.upper()}."))
    if detected not in FORMATS:
        raise TabularError(Problem("unsupported_format", "Unsupported file format: upload CSV, XLSX, XLS or "
                                                         "ODS."))
    if detected == "csv":
        encoding, delimiter, raw_rows = _csv_rows(stream, encoding, delimiter)
        declared = None
    elif detected == "xlsx":
        delimiter = None
        declared, raw_rows = _xlsx_rows(stream)
    else:
        delimiter = None
        declared, raw_rows = _calamine_rows(stream, detected)
    try:
        return _check(stream, owned, rules, detected, encoding, delimiter, raw_rows, declared, max_rows)
    except BaseException:
        getattr(raw_rows, "close", lambda: None)()
        raise


def _check(stream, owned, rules, fmt, encoding, delimiter, raw_rows, declared, max_rows):
    raw_header = None
    for _, cells in raw_rows:
        if not _blank(cells):
            raw_header = cells
            break
    if raw_header is None:
        raise TabularError(Problem("empty_file", "Import file is empty"))
    header, keep, problems = check_header(raw_header, rules)
    if declared is not None and declared - 1 > max_rows:
        # The sheet's own dimension says it is too big: refuse before reading it (rows still count as read).
        problems.append(_too_many_rows(max_rows))
    if problems:
        raise TabularError(problems)
    first = None
    for number, cells in raw_rows:
        if not _blank(cells):
            first = (number, cells)
            break
    if first is None:
        raise TabularError(Problem("no_data_rows", "The file has a header but no data rows."))
    if max_rows < 1:
        raise TabularError(_too_many_rows(max_rows))
    return Table(stream=stream, owned=owned, fmt=fmt, encoding=encoding, delimiter=delimiter, header=header,
                 keep=keep, raw_rows=raw_rows, first=first, max_rows=max_rows)


# --------------------------------------------------------------------------------------------------------------
# Typed cells
# --------------------------------------------------------------------------------------------------------------
DATE_FORMAT = "YYYY-MM-DD"
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")
MAX_INT = 2**63 - 1  # a bigint column
_INTEGER = re.compile(r"[+-]?\d+\Z")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)\Z")
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})


def _clean(text):
    return "" if text is None else str(text).strip()


def parse_date(text):
    """``YYYY-MM-DD`` (ISO 8601 calendar date, the only accepted form) → ``date``; blank → ``None``.
    A spreadsheet date cell arrives in that form already (:func:`cell_text`); a time part of exactly midnight
    (``YYYY-MM-DDT00:00:00`` or with a space) is accepted too."""
    text = _clean(text)
    if not text:
        return None
    for suffix in ("T00:00:00", " 00:00:00"):
        if text.endswith(suffix) and len(text) == 10 + len(suffix):
            text = text[:10]
    match = _ISO_DATE.match(text)
    if not match:
        raise CellError(f"'{text}' is not a date in the format {DATE_FORMAT}")
    try:
        return datetime.date.fromisoformat(text)  # the pattern admits only what this reads as the same date
    except ValueError:
        raise CellError(f"'{text}' is not a valid date") from None


def parse_int(text):
    """Optional sign and digits (no thousands separator, no decimal point) → ``int``; blank → ``None``."""
    text = _clean(text)
    if not text:
        return None
    if not _INTEGER.match(text) or len(text) > 400:
        raise CellError(f"'{text}' is not a whole number")
    value = int(text)
    if abs(value) > MAX_INT:
        raise CellError(f"'{text}' is too large")
    return value


def parse_decimal(text, places=None):
    """Optional sign, digits and a ``.`` decimal point (no thousands separator, no exponent) → ``Decimal``;
    ``places``: the most decimal places accepted; blank → ``None``."""
    text = _clean(text)
    if not text:
        return None
    if not _DECIMAL.match(text) or len(text) > 400:
        raise CellError(f"'{text}' is not a number (use digits and a '.' decimal point)")
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
        raise CellError(f"'{text}' is not a number") from None
    if places is not None and -value.as_tuple().exponent > places:
        raise CellError(f"'{text}' has more than {places} decimal places")
    return value


def parse_bool(text):
    """``true/false``, ``yes/no``, ``y/n``, ``1/0`` (any case) → ``bool``; blank → ``None``."""
    text = _clean(text)
    if not text:
        return None
    word = text.casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(f"'{text}' is not a yes/no value (use true or false)")


def parse_text(text):
    """Text trimmed of surrounding white space; blank → ``None``."""
    return _clean(text) or None


PARSERS = {"date": parse_date, "int": parse_int, "integer": parse_int, "decimal": parse_decimal,
           "number": parse_decimal, "bool": parse_bool, "boolean": parse_bool, "text": parse_text,
           "string": parse_text}


def parse_cells(values, types, required=()):
    """Parse the cells of one row: ``values`` column → text (``Row.values``), ``types`` column → a kind of
    :data:`PARSERS` or a callable raising :class:`CellError`; ``required``: columns that may not be blank.
    Returns (column → parsed value for the typed columns, [``"<column>: <reason>"``, …])."""
    parsed, reasons = {}, []
    for column in required:
        if not _clean(values.get(column)):
            reasons.append(f"{column}: required")
    for column, kind in types.items():
        parser = PARSERS[kind] if isinstance(kind, str) else kind
        try:
            parsed[column] = parser(values.get(column))
        except CellError as exc:
            reasons.append(f"{column}: {exc.reason}")
    return parsed, reasons


# --------------------------------------------------------------------------------------------------------------
# Invalid rows back to the user
# --------------------------------------------------------------------------------------------------------------
class InvalidRowsWriter:
    """CSV of rejected rows: ``row`` (the spreadsheet row number), the file's columns with the original cells,
    ``errors`` (every reason, joined by ``"; "``). Every cell goes through :func:`neutralise`, so a formula
    that came in is harmless when the file is opened. ``out``: a text stream (open it with ``newline=""``)."""

    ROW, ERRORS = "row", "errors"

    def __init__(self, out, columns):
        self._writer = csv.writer(out)
        self._writer.writerow([neutralise(c) for c in (self.ROW, *columns, self.ERRORS)])
        self.written = 0

    def write(self, number, cells, reasons):
        self._writer.writerow([number, *(neutralise(c) for c in cells), neutralise("; ".join(reasons))])
        self.written += 1

    def write_row(self, row, reasons=None):
        """A :class:`Row`, with its reader errors followed by ``reasons``."""
        self.write(row.number, row.cells, [*row.errors, *(reasons or ())])


def write_invalid_rows(out, columns, rows):
    """Write ``rows`` (iterable of (number, cells, reasons)) with :class:`InvalidRowsWriter`; returns the count."""
    writer = InvalidRowsWriter(out, columns)
    for number, cells, reasons in rows:
        writer.write(number, cells, reasons)
    return writer.written
