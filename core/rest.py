"""Helpers of the modules' REST endpoints: the error body, rights, streamed CSV downloads, stored files."""
import csv
import functools
import os
import uuid

from django.core.files.storage import default_storage
from django.http import FileResponse, StreamingHttpResponse
from rest_framework import status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from core.rights import has_rights
from core.tabular import neutralise


def refused(message, code=status.HTTP_400_BAD_REQUEST):
    return Response({"success": False, "error": message}, status=code)


def forbidden(request, right):
    if not has_rights(request.user, right):
        return refused("Unauthorized", status.HTTP_403_FORBIDDEN)
    return None


def requires(right):
    """A view answered 403 ``Unauthorized`` unless the caller holds ``right`` (a config spec)."""

    def decorator(view):
        @functools.wraps(view)
        def checked(request, *args, **kwargs):
            return forbidden(request, right) or view(request, *args, **kwargs)

        return checked

    return decorator


class _FormatNamesTheFile(DefaultContentNegotiation):
    """``?format=`` names the file to answer (csv, xlsx, pdf …), not one of DRF's renderers: answers that are
    not the file (refusals, errors) are JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def format_names_the_file(view):
    """For a download endpoint taking ``?format=`` (put under ``@api_view``)."""
    view.content_negotiation_class = _FormatNamesTheFile
    return view


def as_uuid(value):
    """``value`` as a UUID, or None when it is none."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def csv_response(filename, columns, rows):
    """A streamed CSV; every cell neutralised, so a formula that came in is inert when the file is opened."""

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())

    def lines():
        yield writer.writerow([neutralise(c) for c in columns])
        for row in rows:
            yield writer.writerow([neutralise(c) for c in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def stored_file(path):
    """The stored original of an upload; 404 when absent. ``path`` is built from a bare file name."""
    if not default_storage.exists(path):
        return Response({"success": False, "error": "File not found"}, status=status.HTTP_404_NOT_FOUND)
    return FileResponse(default_storage.open(path, "rb"), as_attachment=True, filename=os.path.basename(path))


def bare_name(name):
    """A file name as sent by the frontend, refused when it tries to leave its folder."""
    if not name or name != os.path.basename(name) or name in (".", "..") or "\\" in name:
        return None
    return name
