"""REST endpoints of the payroll (payment list out, reconciliation back): thin, they check rights and call
:mod:`payment_cycle.payroll`."""
import logging
import tempfile

from django.http import FileResponse
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.rest import as_uuid, csv_response, format_names_the_file, refused, requires
from core.tabular import neutralise
from payment_cycle import payroll

logger = logging.getLogger(__name__)

QUERY = "payment_cycle.gql_query_payment_cycle_perms"
UPDATE = "payment_cycle.gql_update_payment_cycle_perms"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_FORMATS = ("csv", "xlsx")


def _refusal(exc):
    body = {"success": False, "error": exc.message}
    if isinstance(exc, payroll.InvalidRows):
        body["invalid_rows"] = exc.rows
    elif exc.problems:
        body["problems"] = exc.problems
    return Response(body, status=exc.http_status)


def _uuid_param(value, name, required=False):
    if value in (None, ""):
        if required:
            raise payroll.PayrollRefused(f"{name} not provided")
        return None
    parsed = as_uuid(value)
    if parsed is None:
        raise payroll.PayrollRefused(f"{name} is not a UUID")
    return parsed


@api_view(["GET"])
@format_names_the_file
@requires(QUERY)
def payment_list(request):
    """The cycle's payable entitlements as CSV (streamed) or XLSX: ``payment_cycle`` (uuid), optional
    ``payment_plan`` (uuid), ``status`` (comma separated; default APPROVE_FOR_PAYMENT), ``format``."""
    params = request.query_params
    try:
        file_format = (params.get("format") or "csv").strip().lower()
        if file_format not in FILE_FORMATS:
            raise payroll.PayrollRefused(f"Unsupported format: {params.get('format')} (use csv or xlsx)")
        listing = payroll.payment_list(
            request.user, payment_cycle_id=_uuid_param(params.get("payment_cycle"), "payment_cycle", required=True),
            payment_plan_id=_uuid_param(params.get("payment_plan"), "payment_plan"),
            statuses=payroll.parse_statuses(params.get("status")))
    except payroll.PayrollRefused as exc:
        return _refusal(exc)
    if file_format == "xlsx":
        return _xlsx_response(f"{listing.file_stem}.xlsx", listing.columns, listing.rows)
    return csv_response(f"{listing.file_stem}.csv", listing.columns, listing.rows)


def _xlsx_response(filename, columns, rows):
    """XLSX written by openpyxl's write-only mode (rows go to disk as they come) into a temporary file, then
    streamed (the whole list is written before the first byte is sent: CSV is the format that streams as it is
    read). Amounts are number cells (two places), dates date cells, every text cell neutralised."""
    import datetime
    from decimal import Decimal

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("payment list")

    def cell(value):
        if isinstance(value, Decimal):
            typed = WriteOnlyCell(sheet, value=value)
            typed.number_format = "0.00"
            return typed
        if isinstance(value, datetime.date):
            typed = WriteOnlyCell(sheet, value=value)
            typed.number_format = "yyyy-mm-dd"
            return typed
        # control characters XML 1.0 cannot carry would make openpyxl fail half way: dropped
        return ILLEGAL_CHARACTERS_RE.sub("", neutralise(value))

    sheet.append([neutralise(c) for c in columns])
    for row in rows:
        sheet.append([cell(v) for v in row])
    output = tempfile.TemporaryFile()
    workbook.save(output)
    output.seek(0)
    return FileResponse(output, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
@requires(UPDATE)
def reconcile(request):
    """The provider's answer: multipart ``file`` (CSV or XLSX) and ``payment_cycle`` (uuid)."""
    try:
        cycle_id = _uuid_param(request.data.get("payment_cycle"), "payment_cycle", required=True)
        upload = request.FILES.get("file")
        if upload is None:
            raise payroll.PayrollRefused("File not provided")
        counts = payroll.reconcile(request.user, payment_cycle_id=cycle_id, upload=upload)
    except payroll.PayrollRefused as exc:
        return _refusal(exc)
    except Exception:
        logger.exception("Reconciliation failed")
        return refused("Unexpected error while reconciling the payment cycle", status.HTTP_500_INTERNAL_SERVER_ERROR)
    return Response({"success": True, "data": counts})
