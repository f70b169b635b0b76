"""HTTP entry points: the GraphQL endpoint and core's REST views."""
import logging
import os

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, HttpResponseForbidden
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt, ensure_csrf_cookie
from graphene_django.views import GraphQLView, HttpError
from graphql import parse
from graphql.language import OperationDefinitionNode
from graphql_jwt.decorators import jwt_cookie
from graphql_jwt.exceptions import JSONWebTokenError
from rest_framework import permissions, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from core.gql.security import validation_rules

logger = logging.getLogger(__name__)


def _login_fields(query):
    try:
        document = parse(query)
    except Exception:
        return set()
    names = set()
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.selection_set:
            names |= {getattr(sel, "name", None) and sel.name.value for sel in definition.selection_set.selections}
    return names


def _browser_request(request):
    # Login CSRF needs a browser: browsers always send Origin on cross-site POSTs, or carry cookies.
    return bool(request.META.get("HTTP_ORIGIN") or request.META.get("HTTP_COOKIE"))


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


class OpenIMISGraphQLView(GraphQLView):
    def __init__(self, *args, **kwargs):
        from openimis_be import schema as stitched

        kwargs.setdefault("graphiql", getattr(settings, "GRAPHIQL", False))
        kwargs.setdefault("schema", stitched.schema)  # read per request, so tests can swap it
        super().__init__(*args, **kwargs)

    @property
    def validation_rules(self):
        return validation_rules()

    @validation_rules.setter
    def validation_rules(self, value):
        pass

    def execute_graphql_request(self, request, data, query, variables, operation_name, show_graphiql=False):
        if query and "tokenAuth" in (query or "") and "tokenAuth" in _login_fields(query):
            from core.apps import CoreConfig

            if getattr(CoreConfig, "csrf_protect_login", True) and _browser_request(request):
                reason = _CsrfCheck(lambda r: None).process_view(request, None, (), {})
                if reason is not None:
                    response = HttpResponseForbidden("CSRF verification failed")
                    raise HttpError(response)
        result = super().execute_graphql_request(request, data, query, variables, operation_name, show_graphiql)
        if result is not None:
            request._graphql_errors = result.errors  # read by get_response for the 401 mapping
        return result

    def get_response(self, request, data, show_graphiql=False):
        result, status_code = super().get_response(request, data, show_graphiql)
        errors = getattr(request, "_graphql_errors", None)
        if errors and status_code == 200 and any(
            isinstance(getattr(e, "original_error", None), JSONWebTokenError) for e in errors
        ):
            status_code = 401
        return result, status_code

    def format_error(self, error):
        formatted = super().format_error(error)
        # Never leak internals: unexpected exceptions are logged, clients get a generic message.
        original = getattr(error, "original_error", None)
        if original is not None and not _is_user_facing(original):
            logger.error("GraphQL resolver error", exc_info=original)
            formatted["message"] = "Internal error, check the server logs"
        return formatted



def _is_user_facing(exc):
    """Business errors, and the input errors of graphene / graphql-relay (ValueError, AssertionError: bad ids,
    page limits, unknown order fields). Anything else (KeyError, database errors …) is internal."""
    from graphql import GraphQLError

    from core.errors import is_business_error

    return is_business_error(exc) or isinstance(exc, (JSONWebTokenError, GraphQLError, ValueError, AssertionError))


graphql_view = csrf_exempt(jwt_cookie(OpenIMISGraphQLView.as_view()))


# --- REST ------------------------------------------------------------------------------------
@api_view(["GET"])
@permission_classes([permissions.IsAuthenticated])
@ensure_csrf_cookie
def current_user(request):
    user = request.user
    i_user = None
    if user.i_user_id:
        iu = user.i_user
        i_user = {
            "id": iu.id,
            "uuid": str(iu.uuid),
            "language": iu.language_id,
            "last_name": iu.last_name,
            "other_names": iu.other_names,
            "email": iu.email,
            "phone": iu.phone,
            "health_facility_id": iu.health_facility_id,
            "rights": user.get_rights_for_frontend(),
            "has_password": user.has_usable_password(),
        }
    return Response({
        "id": str(user.id),
        "username": user.username,
        "i_user": i_user,
        "t_user": None if user.i_user_id else {"id": str(user.id), "username": user.username,
                                               "is_staff": user.is_staff, "is_superuser": user.is_superuser},
    })


@api_view(["GET"])
@permission_classes([permissions.IsAuthenticated])
def fetch_export(request):
    from core.models import ExportableQueryModel

    name = request.GET.get("export")
    export = ExportableQueryModel.objects.filter(name=name).first() if name else None
    if export is None:
        return Response({"detail": "Export not found"}, status=status.HTTP_404_NOT_FOUND)
    if export.user_id != request.user.id:
        return Response({"detail": "This export belongs to another user"}, status=status.HTTP_403_FORBIDDEN)
    if export.is_deleted or export.expire_date < timezone.now():
        return Response({"detail": "Export expired or removed"}, status=status.HTTP_410_GONE)
    if not export.content:
        return Response({"detail": "Export is still being prepared, retry shortly"}, status=status.HTTP_409_CONFLICT)
    if not os.path.exists(export.content.path):
        return Response({"detail": "Export file missing"}, status=status.HTTP_410_GONE)
    filename = f"export_{export.model}_{export.create_date:%d_%m_%Y}.{export.file_format}"
    return FileResponse(export.content.open("rb"), as_attachment=True, filename=filename)


@api_view(["GET"])
@permission_classes([permissions.IsAdminUser])
def scheduled_jobs(request):
    from django_celery_beat.models import PeriodicTask

    jobs = [
        {"name": t.name, "task": t.task, "enabled": t.enabled,
         "schedule": str(t.crontab or t.interval or t.clocked or t.solar or ""),
         "last_run_at": t.last_run_at}
        for t in PeriodicTask.objects.select_related("crontab", "interval", "clocked", "solar").order_by("name")
    ]
    return Response(jobs)


def health(request):
    return HttpResponse("ok", content_type="text/plain")
