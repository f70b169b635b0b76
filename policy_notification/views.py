"""REST endpoint of the report (spec §10.1, §13.10): thin, it checks the right and calls :mod:`report`."""
import logging

from django.http import HttpResponse
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.response import Response

from core.rest import csv_response, format_names_the_file, refused, requires
from policy_notification import report

logger = logging.getLogger(__name__)

REPORT_PERMS = "policy_notification.family_policy_notification_report_perms"
FORMATS = ("pdf", "json", "csv")


@api_view(["GET"])  # DRF views are CSRF exempt (token or session auth of a GET)
@format_names_the_file
@requires(REPORT_PERMS)
def communication_by_notification_report(request):
    """``regionUuid``/``districtUuid``, ``officerUuid``, ``mode`` (0-4) or ``groupFilterJson``; ``format``
    pdf (default), json or csv."""
    params = request.query_params
    output = (params.get("format") or "pdf").strip().lower()
    if output not in FORMATS:
        return refused(f"Unsupported format: {params.get('format')} (use pdf, json or csv)")
    try:
        payload = report.build_payload(request.user, params)
    except report.ReportRefused as exc:
        return refused(str(exc), status.HTTP_400_BAD_REQUEST)
    if output == "pdf" and len(payload["family_sms_list"]) > report.PDF_MAX_FAMILIES:
        return refused(f"{len(payload['family_sms_list'])} households are too many for a printed report (at most "
                       f"{report.PDF_MAX_FAMILIES}): choose a district, a mode or an officer, or format=csv")
    if output == "json":
        return Response(payload)
    if output == "csv":
        columns, rows = report.csv_columns_and_rows(payload)
        return csv_response(f"{report.file_stem(payload)}.csv", columns, rows)
    response = HttpResponse(report.render_pdf(payload), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{report.file_stem(payload)}.pdf"'
    return response

