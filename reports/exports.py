"""Every report Table as a CSV or an .xlsx download (issue 11, item 2).

    csv_response(table, filename)   a StreamingHttpResponse: UTF-8 with a BOM (Excel in Japan), one
                                    header row in the request's language, raw values (whole yen as
                                    ints, no separators), text guarded against formula injection.
    xlsx_response(table, filename)  a FileResponse of a write-only openpyxl workbook built in a
                                    temporary file; raises TooManyRows past XLSX_MAX_ROWS rows (the
                                    caller points to the CSV, which streams any number of rows).

Both write `Table.all_rows()` when the table has it (every lender, every budget code), else
`Table.rows`, then the `footer` (the totals) as the last row. The .xlsx adds the table's note as a
row under the table; the CSV stays a clean grid (the title and period are in the file name).
"""

import csv
import datetime
import io
import re
import tempfile
import unicodedata

from django.http import FileResponse, StreamingHttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fees.views import spreadsheet_safe
from reports.tables import COUNT, DATE, DAYS, PERCENT, TEXT, YEN, Table

XLSX_MAX_ROWS = 50_000  # beyond it an .xlsx takes too long for one request (30 s gunicorn timeout)
CSV_CHUNK_ROWS = 1_000  # lines per piece of the streamed CSV
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NUMBER_FORMATS = {YEN: "#,##0", COUNT: "#,##0", PERCENT: "0.0%", DAYS: "0.0", DATE: "yyyy-mm-dd"}
SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")


class TooManyRows(Exception):
    """The table has more rows than an .xlsx built in one request may hold."""

    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit


def table_rows(table: Table):
    """What an export writes: every row (`all_rows`) when the table has them, else the page's rows,
    then the totals row."""
    yield from (table.all_rows() if table.all_rows is not None else table.rows)
    if table.footer:
        yield table.footer


def csv_value(value, kind: str = TEXT):
    """One CSV cell: numbers as they are (percentages and days to one decimal, as on the page),
    dates as YYYY-MM-DD, text (lazy strings too) as a string safe from formula injection."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value, 1) if kind in (PERCENT, DAYS) else value
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return spreadsheet_safe(str(value))


class _Lines:
    """A file for csv.writer that keeps what it is given, to be taken as one piece of the stream."""

    def __init__(self):
        self.buffer = io.StringIO()

    def write(self, text):
        self.buffer.write(text)

    def take(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


def csv_response(table: Table, filename: str) -> StreamingHttpResponse:
    """The table as a streamed CSV download. The header is read now (in the request's language);
    the rows while the response is sent."""
    header = [csv_value(str(column.label)) for column in table.columns]
    kinds = [column.kind for column in table.columns]

    def pieces():
        lines = _Lines()
        writer = csv.writer(lines)
        writer.writerow(header)
        yield "\ufeff" + lines.take()
        for n, row in enumerate(table_rows(table), start=1):
            writer.writerow([csv_value(value, kind) for value, kind in zip(row, kinds, strict=False)])
            if n % CSV_CHUNK_ROWS == 0:
                yield lines.take()
        yield lines.take()

    response = StreamingHttpResponse(pieces(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ascii_filename(filename)}"'
    return response


def _display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _column_widths(table: Table) -> list[int]:
    """Widths from the header and the page's rows (the export may stream more; they are alike)."""
    widths = []
    for index, column in enumerate(table.columns):
        width = _display_width(str(column.label))
        for row in table.rows[:200]:
            value = row[index] if index < len(row) else None
            if value is not None:
                width = max(width, _display_width(str(value)) + (3 if column.kind in (YEN, COUNT) else 0))
        widths.append(min(max(width + 2, 8), 60))
    return widths


def _sheet_title(title: str) -> str:
    """Excel's rules for a sheet's name: at most 31 characters, none of []:*?/\\."""
    return (" ".join(SHEET_TITLE_BAD.sub(" ", title).split()) or "Report")[:31]


def _cell(sheet, value, kind: str, bold: bool = False):
    """A cell of the kind's type; text always a string cell (data_type "s"), so a title that starts
    with "=" is shown, never run as a formula."""
    if isinstance(value, bool):
        value = int(value)
    if value is None:
        cell = WriteOnlyCell(sheet, value=None)
    elif isinstance(value, int | float) and kind != TEXT:
        cell = WriteOnlyCell(sheet, value=value / 100 if kind == PERCENT else value)
        if kind in NUMBER_FORMATS:
            cell.number_format = NUMBER_FORMATS[kind]
    elif isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = NUMBER_FORMATS[DATE]
    elif isinstance(value, datetime.datetime):
        cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm"
    else:
        cell = WriteOnlyCell(sheet, value=str(value))
        cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def write_xlsx(table: Table, fh, max_rows: int | None = None) -> None:
    """Write the table as an .xlsx into the open binary file `fh`: a bold, frozen header row,
    column widths, typed cells, the totals row in bold and the note under the table. Raises
    TooManyRows past `max_rows` rows (default XLSX_MAX_ROWS)."""
    max_rows = XLSX_MAX_ROWS if max_rows is None else max_rows
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(str(table.title)))
    for index, width in enumerate(_column_widths(table), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    kinds = [column.kind for column in table.columns]
    try:
        sheet.append([_cell(sheet, str(column.label), TEXT, bold=True) for column in table.columns])
        rows = table.all_rows() if table.all_rows is not None else table.rows
        for n, row in enumerate(rows, start=1):
            if n > max_rows:
                raise TooManyRows(max_rows)
            sheet.append([_cell(sheet, value, kind) for value, kind in zip(row, kinds, strict=False)])
        if table.footer:
            sheet.append([_cell(sheet, v, kind, bold=True) for v, kind in zip(table.footer, kinds, strict=False)])
        if table.note:
            sheet.append([])
            sheet.append([_cell(sheet, str(table.note), TEXT)])
    except BaseException:
        _discard(sheet)
        raise
    workbook.save(fh)


def _discard(sheet) -> None:
    """A write-only sheet given up half-way: its rows went to a named temporary file of openpyxl's
    (removed by save(), else only when the process exits); close it and remove it now."""
    try:
        sheet.close()
    except Exception:  # noqa: BLE001 - already closed or never started: nothing to finish
        pass
    writer = getattr(sheet, "_writer", None)
    if writer is not None:
        try:
            writer.cleanup()
        except (OSError, ValueError):
            pass


def xlsx_response(table: Table, filename: str, max_rows: int | None = None) -> FileResponse:
    """The table as an .xlsx download, built into a temporary file first (a zip's directory comes
    last, so nothing can be sent before the whole file is written). Raises TooManyRows."""
    fh = tempfile.TemporaryFile()
    try:
        write_xlsx(table, fh, max_rows)
    except BaseException:
        fh.close()
        raise
    fh.seek(0)
    return FileResponse(fh, as_attachment=True, filename=ascii_filename(filename), content_type=XLSX_CONTENT_TYPE)


def ascii_filename(name: str) -> str:
    """A file name any browser and mail client keeps: lower-case ASCII letters, digits, dots, hyphens."""
    name = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().lower()
    stem, dot, extension = name.rpartition(".")
    if not dot or not re.fullmatch(r"[a-z0-9]{1,5}", extension):
        stem, extension = name, ""
    stem = re.sub(r"[^a-z0-9]+", "-", stem).strip("-") or "ill-report"
    return f"{stem}.{extension}" if extension else stem
