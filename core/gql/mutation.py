"""The openIMIS mutation pipeline: MutationLog first, validation signals, sync or celery execution.

Every mutation answers ``{clientMutationId internalId}`` at once; the outcome (status and an error
list ``[{message, detail}]``) is read back from ``mutationLogs``. The body runs in a transaction, so a
failed mutation leaves the database as it was.
"""
import datetime
import decimal
import enum
import hashlib
import hmac
import json
import logging
import math
import uuid

import graphene
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from graphene.utils.str_converters import to_camel_case
from graphql import GraphQLError, GraphQLInputObjectType, GraphQLList, GraphQLNonNull
from graphql.utilities import coerce_input_value

from core.models import MutationLog
from core.errors import client_detail
from core.rights import require_for_mutation
from core.signals import (
    signal_mutation,
    signal_mutation_module_after_mutating,
    signal_mutation_module_before_mutating,
    signal_mutation_module_validate,
)

logger = logging.getLogger(__name__)

MUTATION_REGISTRY: dict[tuple[str, str], type] = {}
CLIENT_FIELDS = ("client_mutation_id", "client_mutation_label", "client_mutation_details")
# Input fields never written to the mutation log (GraphQL names); such mutations always run inline.
SENSITIVE_INPUT_FIELDS = {"password", "newPassword", "oldPassword", "token", "secret"}
REDACTED = "********"


def redact(value):
    """Copy of an external input with sensitive fields masked; returns (copy, whether anything was masked)."""
    if isinstance(value, dict):
        out, found = {}, False
        for key, item in value.items():
            if key in SENSITIVE_INPUT_FIELDS and item not in (None, ""):
                out[key], found = REDACTED, True
            else:
                out[key], nested = redact(item)
                found = found or nested
        return out, found
    if isinstance(value, list):
        items = [redact(v) for v in value]
        return [v for v, _ in items], any(f for _, f in items)
    return value, False


class ObjectNotExistException(ObjectDoesNotExist):
    pass


# --- input (de)serialisation: the log stores the GraphQL input exactly as a client would send it ---
def _unwrap(gql_type):
    while isinstance(gql_type, GraphQLNonNull):
        gql_type = gql_type.of_type
    return gql_type


def to_external(value, gql_type):
    """Python input value → JSON value in GraphQL (camelCase) form, the inverse of coercion."""
    gql_type = _unwrap(gql_type)
    if value is None:
        return None
    if isinstance(gql_type, GraphQLList):
        items = value if isinstance(value, (list, tuple, set)) else [value]
        return [to_external(v, gql_type.of_type) for v in items]
    if isinstance(gql_type, GraphQLInputObjectType):
        out = {}
        for name, field in gql_type.fields.items():
            py_name = field.out_name or name
            if py_name in value:
                out[name] = to_external(value[py_name], field.type)
        return out
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if gql_type.name == "JSONString" and not isinstance(value, str):
        return json.dumps(value, default=str)
    if gql_type.name in ("GenericScalar", "JSON"):
        return json.loads(json.dumps(value, default=str))
    return value


def error_list(errors):
    """Normalise whatever a mutation returned into ``[{"message", "detail"}]``."""
    if errors is None:
        return None
    if isinstance(errors, dict):
        if errors.get("success") is True:
            return None
        errors = [errors]
    if not isinstance(errors, (list, tuple)):
        errors = [errors]
    normalised = []
    for item in errors:
        if isinstance(item, dict):
            entry = {"message": str(item.get("message") or item.get("title") or "Error")}
            detail = item.get("detail", item.get("list", ""))
            entry["detail"] = detail if isinstance(detail, (str, list, dict)) else str(detail)
            if "code" in item:
                entry["code"] = item["code"]
            normalised.append(entry)
        else:
            normalised.append({"message": str(item), "detail": ""})
    return normalised or None


class OpenIMISMutation(graphene.relay.ClientIDMutation):
    """Base of every mutation. Subclasses set ``_mutation_module`` and implement ``async_mutate``."""

    _mutation_module = None
    _mutation_class = None

    internal_id = graphene.String()

    class Meta:
        abstract = True

    class Input:
        client_mutation_label = graphene.String()
        client_mutation_details = graphene.List(graphene.String)
        mutation_extensions = graphene.JSONString()

    @classmethod
    def __init_subclass_with_meta__(cls, **options):
        super().__init_subclass_with_meta__(**options)
        if cls._mutation_module and not options.get("abstract"):
            MUTATION_REGISTRY[(cls._mutation_module, cls.__name__)] = cls

    @classmethod
    def mutation_class_name(cls):
        return cls._mutation_class or cls.__name__

    @classmethod
    def async_mutate(cls, user, **data):
        raise NotImplementedError

    # ------------------------------------------------------------------------------------------
    @classmethod
    def mutate_and_get_payload(cls, root, info, **data):
        user = info.context.user
        if not (user and user.is_authenticated):
            # refused visibly, as upstream does: no log (nobody could ever read it), no internalId to poll
            raise PermissionDenied("mutation.authentication_required")
        client_mutation_id = data.get("client_mutation_id")
        label = data.get("client_mutation_label")
        if label and len(label) > 255:
            label = label[:255]
        input_type = _unwrap(info.parent_type.fields[info.field_name].args["input"].type)
        external = to_external({k: v for k, v in data.items() if k != "mutation_extensions"}, input_type)
        logged_input, has_secrets = redact(external)
        fingerprint = input_fingerprint(info.field_name, external)

        if client_mutation_id:
            previous = MutationLog.objects.filter(user=user, client_mutation_id=client_mutation_id).first()
            if previous is not None:  # a replay returns the first outcome, it never runs twice
                return cls._replay(previous, info.field_name, fingerprint, client_mutation_id, logged_input)
        try:
            with transaction.atomic():
                log = MutationLog.objects.create(
                    json_content=json.dumps(logged_input),
                    user=user,
                    client_mutation_id=client_mutation_id,
                    client_mutation_label=label,
                    client_mutation_details=json.dumps(data.get("client_mutation_details"))
                    if data.get("client_mutation_details") else None,
                    json_ext={"input_type": input_type.name, "mutation_field": info.field_name,
                              "input_fingerprint": fingerprint},
                )
        except IntegrityError:  # the same id arrived twice at the same moment
            previous = MutationLog.objects.get(user=user, client_mutation_id=client_mutation_id)
            return cls._replay(previous, info.field_name, fingerprint, client_mutation_id, logged_input)

        if getattr(user, "language", None):
            translation.activate(user.language)
        signal_kwargs = dict(user=user, mutation_module=cls._mutation_module,
                             mutation_class=cls.mutation_class_name(), mutation_log_id=log.id, data=data)
        errors = []
        for _receiver, result in signal_mutation.send(sender=cls, **signal_kwargs):
            errors += result or []
        for _receiver, result in signal_mutation_module_validate[cls._mutation_module].send(sender=cls, **signal_kwargs):
            errors += result or []
        if errors:
            log.mark_as_failed(error_list(errors))
            return cls(client_mutation_id=client_mutation_id, internal_id=str(log.id))
        signal_mutation_module_before_mutating[cls._mutation_module].send(sender=cls, **signal_kwargs)

        if _async_enabled() and not has_secrets:  # secrets are not in the log, so a worker could not replay them
            from core.tasks import openimis_mutation_async

            transaction.on_commit(lambda: openimis_mutation_async.delay(
                str(log.id), cls._mutation_module, cls.__name__))
        else:
            run_logged_mutation(cls, log, user, external=external)
        return cls(client_mutation_id=client_mutation_id, internal_id=str(log.id))


    @classmethod
    def _replay(cls, previous, field_name, fingerprint, client_mutation_id, logged_input):
        """An idempotency key (Stripe's rule): only the same mutation with the same input replays the first
        outcome; the same ``clientMutationId`` with anything else is refused, naming the id, and nothing runs."""
        ext = previous.json_ext or {}
        previous_field = ext.get("mutation_field")
        if "input_fingerprint" in ext:
            same_input = ext["input_fingerprint"] == fingerprint
        else:  # a log written before fingerprints: compare the logged inputs (masked secrets never compare equal)
            same_input = REDACTED not in previous.json_content and _comparable(previous.json_content) == \
                _comparable(json.dumps(logged_input))
        if previous_field == field_name and same_input:
            return cls(client_mutation_id=client_mutation_id, internal_id=str(previous.id))
        what = "with a different input" if previous_field == field_name else f"for {previous_field or 'another mutation'}"
        raise GraphQLError(
            f'clientMutationId "{client_mutation_id}" was already used {what} '
            f"(mutation log {previous.id}); send a new clientMutationId for a new mutation"
        )


# Client bookkeeping that may differ between two sends of the same mutation (a retry may relabel it).
_NOT_FINGERPRINTED = {"clientMutationLabel", "clientMutationDetails"}


def _comparable(json_text):
    try:
        value = json.loads(json_text)
    except ValueError:
        return None
    return {k: v for k, v in value.items() if k not in _NOT_FINGERPRINTED} if isinstance(value, dict) else value


def input_fingerprint(field_name, external):
    """Keyed digest of a mutation and its full input (secrets included, so two passwords never compare equal;
    keyed with SECRET_KEY, so the digest stored in the log is no offline oracle for them)."""
    relevant = {k: v for k, v in (external or {}).items() if k not in _NOT_FINGERPRINTED}
    canonical = json.dumps([field_name, relevant], sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(settings.SECRET_KEY.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def _async_enabled():
    from core.apps import CoreConfig

    configured = getattr(CoreConfig, "config", {}) or {}
    return bool(configured.get("async_mutations", settings.ASYNC_MUTATIONS))


def _input_type_for(log):
    from openimis_be.schema import schema

    return schema.graphql_schema.get_type(log.json_ext["input_type"])


def refuse_nul_characters(value, path="input"):
    """NUL characters (``\u0000``) are refused in every text of a mutation input: PostgreSQL text columns cannot
    hold them and no name, code or title needs one."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError(f"NUL characters are not allowed in {path}")
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_nul_characters(item, key)
    elif isinstance(value, (list, tuple)):
        for item in value:
            refuse_nul_characters(item, path)


def refuse_non_finite_numbers(value, path="input"):
    """NaN and Infinity are refused in every number of a mutation input, JSON texts (``jsonExt``) included:
    Python's JSON reader accepts them, but they are not JSON and no database column can store them."""
    if isinstance(value, float) and not math.isfinite(value) or (
            isinstance(value, decimal.Decimal) and not value.is_finite()):
        raise ValidationError(f"NaN and Infinity are not allowed in {path}")
    if isinstance(value, dict):
        for key, item in value.items():
            refuse_non_finite_numbers(item, path if path != "input" or not isinstance(key, str) else to_camel_case(key))
    elif isinstance(value, (list, tuple, set)):
        for item in value:
            refuse_non_finite_numbers(item, path)


def run_logged_mutation(cls, log, user, external=None):
    """Coerce the input (as logged, or given when it holds secrets), run the body in a transaction,
    record the outcome on the log."""
    input_type = _input_type_for(log)
    raw = external if external is not None else json.loads(log.json_content)
    data = dict(coerce_input_value(raw, input_type))
    data.pop("mutation_extensions", None)
    errors = None
    try:
        refuse_nul_characters(raw)
        refuse_nul_characters(data)  # JSON texts (jsonExt) once parsed: "\u0000" escapes
        refuse_non_finite_numbers(data)
        with transaction.atomic():
            result = cls.async_mutate(user, **data)
            errors = error_list(result)
            if errors:
                transaction.set_rollback(True)
    except Exception as exc:  # the pipeline is the error boundary of the mutation
        errors = [{"message": f"Failed to process {cls.mutation_class_name()} mutation",
                   "detail": client_detail(exc, context=f"mutation {cls.__name__} (log {log.id})")}]
    if errors:
        log.mark_as_failed(errors)
    else:
        log.mark_as_successful()
    signal_mutation_module_after_mutating[cls._mutation_module].send(
        sender=cls, user=user, mutation_module=cls._mutation_module, mutation_class=cls.mutation_class_name(),
        mutation_log_id=log.id, data=data, error_messages=errors,
    )
    return errors


class BaseMutation(OpenIMISMutation):
    """``async_mutate`` = ``_validate_mutation`` then ``_mutate``; both may raise."""

    class Meta:
        abstract = True

    @classmethod
    def _validate_mutation(cls, user, **data):
        if not user or not user.is_authenticated:
            raise PermissionDenied("mutation.authentication_required")

    @classmethod
    def _mutate(cls, user, **data):
        raise NotImplementedError

    @classmethod
    def async_mutate(cls, user, **data):
        cls._validate_mutation(user, **data)
        return cls._mutate(user, **data)


def strip_client_fields(data):
    return {k: v for k, v in data.items() if k not in CLIENT_FIELDS}


def service_payload(data):
    """The mutation input as a service payload: client bookkeeping fields and ``mutation_extensions`` gone."""
    return {k: v for k, v in data.items() if k not in CLIENT_FIELDS and k != "mutation_extensions"}


check_perms = require_for_mutation


class ServiceMutation(BaseMutation):
    """A mutation that is one service call, declared rather than written::

        class CreateThingMutation(ServiceMutation):
            _mutation_module = "thing"
            permission = "thing.gql_thing_create_perms"
            service, method = ThingService, "create"
            link_model, link_field = ThingMutation, "thing"
            class Input(ThingInput, ServiceMutation.Input):
                pass

    Maker-checker: ``task_flags`` are configuration settings (``"<app>.<key>"``); when one is on, the service's
    approval task (``task_method``, by default ``create_<method>_task``) is created instead, and nothing is
    linked yet (the change does not exist before the checker approves it).

    Hooks: ``check_access(user, data)`` (e.g. location rights, after the rights check), ``payload(user,
    data)`` (input → service payload), ``linked_id(data, result)``. With ``each = "ids"`` the service runs
    once per id of that input list (payload ``{"id": <id>}``); ``report_each_failure`` then says whether
    failures are reported (and roll everything back) or ignored as upstream does.
    """

    permission = None
    service = None
    method = None
    link_model = None
    link_field = None
    each = None
    each_key = "id"
    report_each_failure = True
    task_flags = ()
    task_method = None
    ignored_inputs = ()  # input fields the service must not receive

    class Meta:
        abstract = True

    @classmethod
    def _validate_mutation(cls, user, **data):
        require_for_mutation(user, cls.permission)
        cls.check_access(user, data)

    @classmethod
    def check_access(cls, user, data):
        """Access rules beyond the right (locations, ownership): raise PermissionDenied."""

    @classmethod
    def payload(cls, user, data):
        payload = {k: v for k, v in service_payload(data).items() if k not in cls.ignored_inputs}
        for key in ("id", "uuid"):
            if payload.get(key) is not None:
                payload[key] = str(payload[key])
        return payload

    @classmethod
    def uses_task(cls):
        from core.module_config import config_value

        return any(config_value(flag) for flag in cls.task_flags)

    @classmethod
    def call_service(cls, user, payload):
        method = (cls.task_method or f"create_{cls.method}_task") if cls.uses_task() else cls.method
        return getattr(cls.service(user), method)(payload)

    @classmethod
    def linked_id(cls, data, result):
        answer = result.get("data") if isinstance(result.get("data"), dict) else {}
        return answer.get("id") or data.get("id")

    @classmethod
    def link(cls, user, data, obj_id):
        if cls.link_model is not None and obj_id and not cls.uses_task() and data.get("client_mutation_id"):
            cls.link_model.object_mutated(user, client_mutation_id=data["client_mutation_id"],
                                          **{f"{cls.link_field}_id": obj_id})

    @classmethod
    def _mutate(cls, user, **data):
        if cls.each:
            failures = []
            for obj_id in data.get(cls.each) or []:
                result = cls.call_service(user, {cls.each_key: str(obj_id)})
                if result and result.get("success") is False:
                    failures.append(result)
                else:
                    cls.link(user, data, str(obj_id))
            return (failures or None) if cls.report_each_failure else None
        result = cls.call_service(user, cls.payload(user, data))
        if result is None or result.get("success", True) is False:
            return result
        cls.link(user, data, cls.linked_id(data, result))
        return None


class IdsInput:
    ids = graphene.List(graphene.UUID)


def mutation_fields(*mutations):
    """A module's ``Mutation`` type: one field per mutation class, named after the class as openIMIS names them
    (``CreateThingMutation`` → ``createThing``, ``TokenAuth`` → ``tokenAuth``)."""
    from graphene.utils.str_converters import to_snake_case

    fields = {to_snake_case(cls.__name__.removesuffix("Mutation")): cls.Field() for cls in mutations}
    return type("Mutation", (graphene.ObjectType,), fields)
