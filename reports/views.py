"""Report files and the admin dashboard. Every path runs the reports through ``reports.services.run_report``:
the owning module's right and the caller's row security, the same figures GraphQL answers.

REST (token or session): ``GET /api/reports/<name>/?format=json|csv|pdf`` (one report), ``GET
/api/reports/all/?format=pdf`` (every report the caller may run), ``GET /api/reports/monthly/<YYYY-MM>/
?format=pdf|json`` (a stored monthly programme report). Filters: ``location`` (a location uuid, any level),
``level`` (R, D, W, V: the level figures are shown at; default D), ``benefitPlan`` (uuid), ``dateFrom``,
``dateTo`` (YYYY-MM-DD)."""
import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.decorators import api_view

from core.rest import csv_response, format_names_the_file
from reports import services
from reports.pdf import render_pdf
from reports.svg import chart_svg

FORMATS = ("json", "csv", "pdf")


def _message(exc):
    return "; ".join(exc.messages) if isinstance(exc, ValidationError) else (str(exc) or "Unauthorized")


def report_file(user, name, output, params):
    """The response for one report (``name``) or every report the user may run (``"all"``)."""
    output = (output or "json").strip().lower()
    if output not in FORMATS:
        raise ValidationError(f"Unsupported format: {output} (use json, csv or pdf)")
    filters = services.ReportFilters.from_params(params)
    if name == "all":
        results = services.run_available(user, filters)
        if not results:
            raise PermissionDenied("Unauthorized")
        if output == "csv":
            raise ValidationError("format=csv is for one report: ask /api/reports/<name>/?format=csv")
    else:
        results = [services.run_report(name, user, filters)]
    stamp = datetime.date.today().isoformat()
    stem = f"{name}_{stamp}"
    if output == "json":
        return JsonResponse({"reports": [r.as_json() for r in results]})
    if output == "csv":
        header, cells = results[0].table()
        return csv_response(f"{stem}.csv", header, cells)
    title = results[0].definition.title if name != "all" else "Programme report"
    response = HttpResponse(render_pdf(results, title=title), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{stem}.pdf"'
    return response


def _answer(call):
    try:
        return call()
    except PermissionDenied as exc:
        return JsonResponse({"success": False, "error": _message(exc)}, status=403)
    except ValidationError as exc:
        return JsonResponse({"success": False, "error": _message(exc)}, status=400)


@api_view(["GET"])
@format_names_the_file
def report_view(request, name):
    return _answer(lambda: report_file(request.user, name, request.query_params.get("format"),
                                       request.query_params))


# --- stored monthly reports -----------------------------------------------------------------------------------
def check_monthly_access(user):
    """The stored reports hold every location's figures: the right, and a caller no district limits."""
    from core.location import is_unrestricted, row_security_enabled
    from core.rights import require

    require(user, "reports.gql_monthly_report_perms", "Unauthorized")
    if row_security_enabled() and not is_unrestricted(user):
        raise PermissionDenied("A stored monthly report shows every district: ask the reports with your filters")


def monthly_file(user, month, output):
    from reports.models import MonthlyProgrammeReport

    check_monthly_access(user)
    try:
        first = datetime.datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise ValidationError(f"month: YYYY-MM, not {month!r}")
    stored = MonthlyProgrammeReport.objects.filter(month=first).first()
    if stored is None:
        return JsonResponse({"success": False, "error": f"No programme report for {month}"}, status=404)
    if (output or "pdf").lower() == "json":
        return JsonResponse(stored.payload)
    response = HttpResponse(bytes(stored.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="programme_report_{month}.pdf"'
    return response


@api_view(["GET"])
@format_names_the_file
def monthly_view(request, month):
    return _answer(lambda: monthly_file(request.user, month, request.query_params.get("format")))


# --- admin dashboard ------------------------------------------------------------------------------------------
def dashboard(request, admin_context=None, download_url="download/"):
    """The programme dashboard: filters, then every report the user may run with its chart and table."""
    from reports.models import MonthlyProgrammeReport

    context = dict(admin_context or {})
    try:
        filters = services.ReportFilters.from_params(request.GET)
        results = services.run_available(request.user, filters)
        error = None
    except (PermissionDenied, ValidationError) as exc:
        filters, results, error = None, [], _message(exc)
    try:
        check_monthly_access(request.user)
        monthly = list(MonthlyProgrammeReport.objects.values("month", "generated_at", "elapsed_ms")[:24])
    except PermissionDenied:
        monthly = None
    query = request.GET.urlencode()
    context.update({
        "title": "Programme dashboard", "error": error, "query": query,
        "download_url": download_url,
        "filters": filters.as_dict() if filters else {},
        "levels": [("R", "Region"), ("D", "District"), ("W", "Ward"), ("V", "Village")],
        "locations": _filter_locations(request.user),
        "reports": [{"result": r, "svg": chart_svg(r), "table": r.table(), "totals": r.totals,
                     "total_cells": [r.totals.get(k, "") for k in r.definition.column_keys]} for r in results],
        "monthly": monthly,
    })
    return render(request, "reports/dashboard.html", context)


def _filter_locations(user):
    """Regions and districts for the location filter: for a district user, theirs and their regions."""
    from core.location import is_unrestricted, location_manager, row_security_enabled
    from core.models import Location

    locations = Location.objects.filter(validity_to__isnull=True, type__in=("R", "D")).order_by("type", "code")
    if row_security_enabled() and not is_unrestricted(user):
        allowed = set(location_manager.get_allowed_ids(user, loc_types=("D",)))
        parents = Location.objects.filter(id__in=allowed).values("parent_id")
        locations = locations.filter(Q(id__in=allowed) | Q(id__in=parents))
    return locations.values("uuid", "code", "name", "type")


def dashboard_download(request):
    """A dashboard link: one report (``report``) or every one, as PDF or CSV, with the dashboard's filters."""
    name = request.GET.get("report") or "all"
    output = request.GET.get("format") or "pdf"
    if name == "monthly":
        return _answer(lambda: monthly_file(request.user, request.GET.get("month", ""), output))
    return _answer(lambda: report_file(request.user, name, output, request.GET))

