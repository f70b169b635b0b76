"""The attachment download (spec §12): ``GET /api/ticket/attach?id=<attachment uuid>``, the frontend's link."""
import logging
import uuid

from django.http import FileResponse
from rest_framework import status
from rest_framework.decorators import api_view

from core.rest import forbidden, refused
from grievance_social_protection.gql_queries import ATTACHMENT_SEARCH
from grievance_social_protection.services import attachment_file, visible_attachments

logger = logging.getLogger(__name__)


@api_view(["GET"])
def attach(request):
    """The stored bytes with the stored type. An attachment the caller's row security hides answers like an
    unknown one (404): the download is no oracle for ids."""
    denied = forbidden(request, ATTACHMENT_SEARCH)
    if denied:
        return denied
    try:
        attachment_id = uuid.UUID(str(request.query_params.get("id") or ""))
    except ValueError:
        return refused("id must be an attachment uuid")
    attachment = visible_attachments(request.user).filter(id=attachment_id).first()
    if attachment is None:
        return refused("Attachment not found", status.HTTP_404_NOT_FOUND)
    try:
        content = attachment_file(attachment)
    except FileNotFoundError:
        logger.error("ticket attachment %s: stored file %s is missing", attachment.id, attachment.stored_name)
        return refused("The attachment's file is missing", status.HTTP_410_GONE)
    content_type = attachment.mime_type
    if content_type == "text/plain":
        content_type = "text/plain; charset=utf-8"  # checked as UTF-8 when it was stored
    response = FileResponse(content, as_attachment=True, filename=attachment.filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
