"""HTTP entry points: the GraphQL endpoint and core's REST views."""
import functools
import json
import logging
import os

from django.conf import settings
from django.db import connection, transaction
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt, ensure_csrf_cookie
from graphene_django.constants import MUTATION_ERRORS_FLAG
from graphene_django.settings import graphene_settings
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, OperationType, execute, get_operation_ast, parse, validate, validate_schema
from graphql.language import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
)
from graphql_jwt.decorators import jwt_cookie
from graphql_jwt.exceptions import JSONWebTokenError
from rest_framework import permissions, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from core.gql.security import hide_suggestions, validation_rules

logger = logging.getLogger(__name__)


LOGIN_FIELD = "tokenAuth"


def max_body_size():
    """Bytes accepted in a GraphQL request body (``GRAPHQL_MAX_BODY_SIZE``); larger bodies are refused unread."""
    return getattr(settings, "GRAPHQL_MAX_BODY_SIZE", 1024 * 1024)


def checked_document(schema, query, rules):
    """``(document, validation errors)`` of a query text: parsed once with graphql-core's caps
    (``GRAPHQL_MAX_TOKENS`` lexical tokens, ``GRAPHQL_MAX_COMMENTS`` comments: an oversized document is refused
    while it is read, before any AST is built for it) and validated against the schema,
    remembered for the next request with the same text (a frontend sends the same few hundred texts all day; their
    parse and validation were a fifth of a small list request). Documents are never changed by execution."""
    if len(query) > _DOCUMENT_CACHE_MAX_TEXT:
        return _parse_and_validate(schema, query, rules, *_parse_caps())
    return _cached_parse_and_validate(schema, query, rules, *_parse_caps())


_DOCUMENT_CACHE_MAX_TEXT = 20_000  # longer texts are checked every time: the cache holds only what clients reuse


def _parse_caps():
    return (getattr(settings, "GRAPHQL_MAX_TOKENS", 5_000), getattr(settings, "GRAPHQL_MAX_COMMENTS", 1_000))


def _parse_and_validate(schema, query, rules, max_tokens, max_comments):
    document = parse(query, max_lexical_tokens=max_tokens, max_comments=max_comments)
    return document, validate(schema, document, list(rules), graphene_settings.MAX_VALIDATION_ERRORS)


_cached_parse_and_validate = functools.lru_cache(maxsize=512)(_parse_and_validate)


def field_count(document, name):
    """How many times field ``name`` would run in the document's operations, wherever it hides: aliased, in
    inline fragments, in named fragments (each spread counted; per-fragment counts memoised, cycles ignored)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    memo = {}

    def in_selections(selection_set, visiting):
        total = 0
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                total += (sel.name.value == name) + in_selections(sel.selection_set, visiting)
            elif isinstance(sel, InlineFragmentNode):
                total += in_selections(sel.selection_set, visiting)
            elif isinstance(sel, FragmentSpreadNode):
                total += in_fragment(sel.name.value, visiting)
        return total

    def in_fragment(fragment_name, visiting):
        if fragment_name in memo:
            return memo[fragment_name]
        if fragment_name in visiting or fragment_name not in fragments:
            return 0  # a cycle or an unknown fragment: validation refuses the document anyway
        memo[fragment_name] = in_selections(fragments[fragment_name].selection_set, visiting | {fragment_name})
        return memo[fragment_name]

    return sum(in_selections(d.selection_set, frozenset())
               for d in document.definitions if isinstance(d, OperationDefinitionNode))


def _is_mutation(document, operation_name):
    operation = get_operation_ast(document, operation_name)
    if operation is not None:
        return operation.operation == OperationType.MUTATION
    return any(isinstance(d, OperationDefinitionNode) and d.operation == OperationType.MUTATION
               for d in document.definitions)


def _cookie_authenticated(request):
    """True when the caller may be authenticated by a cookie the browser adds by itself (the ``JWT`` cookies of the
    frontend, the Django admin session): a well-formed ``Authorization: Bearer`` header wins over them, and no
    foreign page can send that header (it needs a CORS preflight this server never grants)."""
    from graphql_jwt.settings import jwt_settings

    auth = request.META.get(jwt_settings.JWT_AUTH_HEADER_NAME, "").split()
    if len(auth) == 2 and auth[0].lower() == jwt_settings.JWT_AUTH_HEADER_PREFIX.lower():
        return False
    names = (jwt_settings.JWT_COOKIE_NAME, jwt_settings.JWT_REFRESH_TOKEN_COOKIE_NAME, settings.SESSION_COOKIE_NAME)
    return any(request.COOKIES.get(cookie) for cookie in names)


def _csrf_refusal(request, token_required):
    """None when the request passes; else the reason. Django's own check (``X-CSRFToken`` matching the
    ``csrftoken`` cookie, and a good Origin/Referer when sent); unless ``token_required``, an ``Origin`` of this
    site or of ``CSRF_TRUSTED_ORIGINS`` is proof enough (what the frontend behind its proxy sends)."""
    check = _CsrfCheck(lambda r: None)
    if not token_required and request.META.get("HTTP_ORIGIN") and check._origin_verified(request):
        return None
    return check.process_view(request, None, (), {})


def _refuse_json_constant(name):
    raise ValueError(f"{name} is not valid JSON: NaN and Infinity are not allowed")


def _browser_request(request):
    # Login CSRF needs a browser: browsers always send Origin on cross-site POSTs, or carry cookies.
    return bool(request.META.get("HTTP_ORIGIN") or request.META.get("HTTP_COOKIE"))


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


class OpenIMISGraphQLView(GraphQLView):
    # GraphiQL (on with settings.GRAPHIQL) loads its assets from this project, not from a CDN, so it works offline:
    # core/static/core/graphiql holds byte-for-byte copies of these npm versions (NOTICE.txt there), pinned here so
    # a graphene-django upgrade cannot change the integrity hashes under the vendored files.
    graphiql_template = "core/graphiql.html"
    whatwg_fetch_version = "3.6.2"
    whatwg_fetch_sri = "sha256-+pQdxwAcHJdQ3e/9S4RK6g8ZkwdMgFQuHvLuN5uyk5c="
    react_version = "17.0.2"
    react_sri = "sha256-Ipu/TQ50iCCVZBUsZyNJfxrDk0E2yhaEIz0vqI+kFG8="
    react_dom_sri = "sha256-nbMykgB6tsOFJ7OdVmPpdqMFVk4ZsqWocT6issAPUF0="
    graphiql_version = "2.4.7"
    graphiql_sri = "sha256-n/LKaELupC1H/PU6joz+ybeRJHT2xCdekEt6OYMOOZU="
    graphiql_css_sri = "sha256-OsbM+LQHcnFHi0iH7AUKueZvDcEBoy/z4hJ7jx1cpsM="
    subscriptions_transport_ws_version = "5.13.1"  # graphql-ws
    subscriptions_transport_ws_sri = "sha256-EZhvg6ANJrBsgLvLAa0uuHNLepLJVCFYS+xlb5U/bqw="
    graphiql_plugin_explorer_version = "0.1.15"
    graphiql_plugin_explorer_sri = "sha256-3hUuhBXdXlfCj6RTeEkJFtEh/kUG+TCDASFpFPLrzvE="
    graphiql_plugin_explorer_css_sri = "sha256-fA0LPUlukMNR6L4SPSeFqDTYav8QdWjQ2nr559Zln1U="

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

    @staticmethod
    def get_graphql_params(request, data):
        params = GraphQLView.get_graphql_params(request, data)
        if params[0] is not None and not isinstance(params[0], str):  # {"query": 12345}: a 400, not a 500
            raise HttpError(HttpResponseBadRequest("The query must be a GraphQL document given as a string"))
        return params

    def dispatch(self, request, *args, **kwargs):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_body_size():  # refused before the body is even read
            return _json_error(413, f"Request body too large: at most {max_body_size()} bytes are accepted")
        return super().dispatch(request, *args, **kwargs)

    def parse_body(self, request):
        if request.method != "POST":
            return super().parse_body(request)
        content_type = self.get_content_type(request)
        if content_type not in ("application/json", "application/graphql"):
            # form encodings (and text/plain) are what a foreign page can post without a CORS preflight
            raise HttpError(HttpResponse(status=415), "GraphQL requests must be sent as application/json")
        if len(request.body) > max_body_size():  # a body without Content-Length
            raise HttpError(HttpResponse(status=413), "Request body too large")
        if content_type == "application/graphql":
            return super().parse_body(request)
        try:
            data = json.loads(request.body.decode("utf-8"), parse_constant=_refuse_json_constant)
        except UnicodeDecodeError:
            raise HttpError(HttpResponseBadRequest("The body must be UTF-8 encoded JSON"))
        except ValueError as exc:
            text = str(exc) if "NaN and Infinity" in str(exc) else "POST body sent invalid JSON."
            raise HttpError(HttpResponseBadRequest(text))
        if not isinstance(data, dict):
            raise HttpError(HttpResponseBadRequest("The received data is not a valid JSON query."))
        return data

    def check_csrf(self, request, document, operation_name):
        """Login CSRF (every ``tokenAuth`` of the document, fragments included) and, for a mutation authenticated
        by a cookie, the CSRF token or a trusted Origin. Raises a 403 ``HttpError``."""
        from core.apps import CoreConfig

        reason = None
        if field_count(document, LOGIN_FIELD):
            if getattr(CoreConfig, "csrf_protect_login", True) and _browser_request(request):
                reason = _csrf_refusal(request, token_required=True)
        elif _is_mutation(document, operation_name) and _cookie_authenticated(request):
            reason = _csrf_refusal(request, token_required=False)
        if reason is not None:
            raise HttpError(HttpResponseForbidden(), (
                f"CSRF verification failed ({reason}): a mutation sent with cookies needs the X-CSRFToken header "
                "(the csrftoken cookie) or an Origin trusted by this server"))

    def execute_graphql_request(self, request, data, query, variables, operation_name, show_graphiql=False):
        """graphene-django's, but the document is parsed once (with the caps) and checked for CSRF first."""
        if not query:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseBadRequest("Must provide query string."))
        schema = self.schema.graphql_schema
        schema_validation_errors = validate_schema(schema)
        if schema_validation_errors:
            return ExecutionResult(data=None, errors=schema_validation_errors)
        try:
            document, validation_errors = checked_document(schema, query, tuple(self.validation_rules))
        except Exception as exc:  # syntax errors, token and comment caps
            return ExecutionResult(errors=[exc])
        self.check_csrf(request, document, operation_name)
        operation_ast = get_operation_ast(document, operation_name)
        if request.method.lower() == "get" and operation_ast is not None \
                and operation_ast.operation != OperationType.QUERY:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseNotAllowed(
                ["POST"], f"Can only perform a {operation_ast.operation.value} operation from a POST request."))
        if validation_errors:
            return ExecutionResult(data=None, errors=validation_errors)
        try:
            options = {
                "root_value": self.get_root_value(request),
                "context_value": self.get_context(request),
                "variable_values": variables,
                "operation_name": operation_name,
                "middleware": self.get_middleware(request),
            }
            if self.execution_context_class:
                options["execution_context_class"] = self.execution_context_class
            if operation_ast is not None and operation_ast.operation == OperationType.MUTATION and (
                    graphene_settings.ATOMIC_MUTATIONS is True
                    or connection.settings_dict.get("ATOMIC_MUTATIONS", False) is True):
                with transaction.atomic():
                    result = execute(schema, document, **options)
                    if getattr(request, MUTATION_ERRORS_FLAG, False) is True:
                        transaction.set_rollback(True)
            else:
                result = execute(schema, document, **options)
        except Exception as exc:
            result = ExecutionResult(errors=[exc])
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
        formatted["message"] = hide_suggestions(formatted.get("message"))
        return formatted



def _is_user_facing(exc):
    """Business errors, and the input errors of graphene / graphql-relay (ValueError, AssertionError: bad ids,
    page limits, unknown order fields). Anything else (KeyError, database errors …) is internal."""
    from graphql import GraphQLError

    from core.errors import is_business_error

    return is_business_error(exc) or isinstance(exc, (JSONWebTokenError, GraphQLError, ValueError, AssertionError))


def _json_error(status_code, message):
    return JsonResponse({"errors": [{"message": message}]}, status=status_code)


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
