"""REST endpoints of beneficiary uploads (social_protection.md §5): rights, the plan, then the engine."""
import uuid

from rest_framework import status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from core.rest import bare_name, csv_response, forbidden, refused, requires, stored_file
from individual.services import (
    IndividualDataSourceUpload,
    IndividualDataSourceUploadService,
    invalid_items_response,
    invalid_rows,
    start_import,
    template_columns,
)
from social_protection.imports import BenefitPlanImportTarget
from social_protection.models import BenefitPlan, BenefitPlanDataUploadRecords

SEARCH = "individual.gql_individual_search_perms"
IMPORT = "individual.gql_individual_create_perms"
PLAN_TEMPLATE = "social_protection.gql_beneficiary_create_perms"


def _plan(value):
    try:
        plan_id = uuid.UUID(str(value))
    except ValueError:
        return None
    return BenefitPlan.objects.filter(id=plan_id, is_deleted=False).first()


def _plan_or_refusal(value, missing="Benefit plan UUID not provided"):
    if not value:
        return None, refused(missing)
    plan = _plan(value)
    if plan is None:
        return None, refused(f"Benefit Plan not found: {value}")
    return plan, None


@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
def import_beneficiaries(request):
    denied = forbidden(request, IMPORT)
    if denied:
        return denied
    if not request.FILES.get("file"):
        return refused("Import file not provided")
    plan, refusal = _plan_or_refusal(request.data.get("benefit_plan"))
    if refusal:
        return refusal
    column = request.data.get("group_aggregation_column")
    if column and column != "null" and plan.type != BenefitPlan.BenefitPlanType.GROUP_TYPE:
        return refused("Group aggregation only for group type benefit plans")
    return start_import(request, BenefitPlanImportTarget(plan))


def _upload_of_plan(request):
    """(plan, upload id, refusal) of the three manual-step endpoints."""
    plan, refusal = _plan_or_refusal(request.data.get("benefit_plan"))
    if refusal:
        return None, None, refusal
    upload_id = request.data.get("upload_id")
    record = None
    if upload_id:
        try:
            record = BenefitPlanDataUploadRecords.objects.filter(benefit_plan=plan,
                                                                 data_upload_id=uuid.UUID(str(upload_id))).first()
        except ValueError:
            record = None
    if record is None:
        return None, None, refused(f"Upload not found: {upload_id}")
    return plan, record.data_upload_id, None


def upload_step(step):
    """A manual step on an upload of a plan (POST ``benefit_plan``, ``upload_id``; right 159002): the view
    checks the right, the plan and the upload, then calls ``step(request, upload_id)``."""

    @api_view(["POST"])
    @parser_classes([JSONParser, MultiPartParser, FormParser])
    def view(request):
        denied = forbidden(request, IMPORT)
        if denied:
            return denied
        plan, upload_id, refusal = _upload_of_plan(request)
        return refusal or step(request, upload_id)

    view.__doc__ = step.__doc__
    return view


@upload_step
def validate_import_beneficiaries(request, upload_id):
    """The verdict of an upload's rows: ``data`` lists the invalid rows with their reasons,
    ``summary_invalid_items`` their ids."""
    columns, rows = invalid_rows(upload_id)
    data = [{"row": dict(zip(columns[:-2], row[:-2])), "id": row[-2], "validations": row[-1]} for row in rows]
    return Response({"success": True, "data": data, "summary_invalid_items": [item["id"] for item in data]})


@upload_step
def create_task_with_importing_valid_items(request, upload_id):
    """The maker-checker task of an upload validated without one (maker-checker switched on since)."""
    answer = IndividualDataSourceUploadService(request.user).request_approval(upload_id)
    if not answer.get("success"):
        return refused(answer.get("detail") or answer.get("message"))
    return Response({"success": True, "error": None}, status=status.HTTP_201_CREATED)


@upload_step
def synchronize_data_for_reporting(request, upload_id):
    """Kept for the frontend: reports read the registry directly, there is nothing to synchronise."""
    return Response({"success": True, "error": None}, status=status.HTTP_201_CREATED)


@api_view(["GET"])
@requires(SEARCH)
def download_invalid_items(request):
    return invalid_items_response(request, IndividualDataSourceUpload.objects.filter(
        pk__in=BenefitPlanDataUploadRecords.objects.values("data_upload_id")), "invalid_items.csv")


@api_view(["GET"])
@requires(SEARCH)
def download_beneficiary_upload_file(request):
    plan = _plan(request.query_params.get("benefit_plan_id"))
    name = bare_name(request.query_params.get("filename"))
    if plan is None or name is None:
        return refused("benefit_plan_id and filename are required", status.HTTP_404_NOT_FOUND)
    return stored_file(BenefitPlanImportTarget(plan).storage_path(name))


@api_view(["GET"])
@requires(PLAN_TEMPLATE)
def download_template_benefit_plan_file(request):
    plan = _plan(request.query_params.get("benefit_plan_uuid"))
    if plan is None:
        return refused(f"Benefit Plan not found: {request.query_params.get('benefit_plan_uuid')}")
    return csv_response("beneficiary_upload_template.csv", template_columns(BenefitPlanImportTarget(plan)), [])
