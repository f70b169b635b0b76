"""REST endpoints of the upload pipeline (individual.md §8.1): thin, they check rights and call the engine."""
import logging

from rest_framework import status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.rest import as_uuid, bare_name, csv_response, forbidden, refused, requires, stored_file
from individual import imports

logger = logging.getLogger(__name__)

SEARCH, CREATE = "individual.gql_individual_search_perms", "individual.gql_individual_create_perms"


def start_import(request, target):
    """The import request of either endpoint: 200 with the upload, 400/409 with the reason, 500 otherwise
    (the reason logged, not sent)."""
    try:
        upload = imports.receive_request(
            request.user, target, import_file=request.FILES.get("file"),
            workflow_name=request.data.get("workflow_name"), workflow_group=request.data.get("workflow_group"),
            group_aggregation_column=request.data.get("group_aggregation_column"))
    except imports.ImportRejected as exc:
        return refused(str(exc), exc.http_status)
    except Exception:
        logger.exception("Import request failed")
        return refused("Unexpected error while receiving the upload", status.HTTP_500_INTERNAL_SERVER_ERROR)
    return Response({"success": True, "data": {"upload_uuid": str(upload.id)}})


@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
def import_individuals(request):
    return forbidden(request, CREATE) or start_import(request, imports.ImportTarget())


@api_view(["GET"])
def download_template_file(request):
    return forbidden(request, CREATE) or csv_response(
        "individual_upload_template.csv", imports.template_columns(imports.ImportTarget()), [])


def invalid_items_response(request, uploads, filename):
    """The invalid rows of the upload ``upload_id`` names, when it is one of ``uploads`` (upload ids)."""
    upload_id = as_uuid(request.query_params.get("upload_id"))
    if upload_id is None or not uploads.filter(pk=upload_id).exists():
        return refused("Upload not found", status.HTTP_404_NOT_FOUND)
    columns, rows = imports.invalid_rows(upload_id)
    return csv_response(filename, columns, rows)


@api_view(["GET"])
@requires(SEARCH)
def download_invalid_items(request):
    return invalid_items_response(request, imports.IndividualDataSourceUpload.objects.all(),
                                  "individuals_invalid_items.csv")


@api_view(["GET"])
@requires(SEARCH)
def download_individual_upload_file(request):
    name = bare_name(request.query_params.get("filename"))
    if name is None:
        return refused("filename not provided or not a file name")
    return stored_file(imports.ImportTarget().storage_path(name))
