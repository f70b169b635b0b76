"""Helpers shared by every module's tests (mirroring upstream's core test helpers)."""
import json
import uuid

from django.test import Client
from graphql_jwt.shortcuts import get_token

from core.models import (
    IMIS_ADMIN_SYSTEM_ID,
    InteractiveUser,
    Location,
    MutationLog,
    Role,
    RoleRight,
    User,
    UserDistrict,
    UserRole,
    invalidate_rights_cache,
)

GRAPHQL_URL = "/api/graphql"
DEFAULT_PASSWORD = "S3cure-Test-Pass!"


def admin_role():
    return Role.objects.get(is_system=IMIS_ADMIN_SYSTEM_ID, validity_to__isnull=True)


def create_role(name, rights, is_system=0):
    role = Role.objects.create(name=name, is_system=is_system)
    RoleRight.objects.bulk_create([RoleRight(role=role, right_id=int(r)) for r in rights])
    invalidate_rights_cache()
    return role


def create_test_interactive_user(username="TestInteractiveTest", password=DEFAULT_PASSWORD, roles=None,
                                 custom_props=None, rights=None):
    """Create or reuse an interactive user. ``roles``: Role objects or ids (default: IMIS Administrator);
    ``rights``: shortcut that makes a dedicated role holding exactly those rights."""
    props = {"last_name": "Test", "other_names": username, "language_id": "en", **(custom_props or {})}
    user = User.objects.filter(username=username).select_related("i_user").first()
    if user is None:
        i_user = InteractiveUser.objects.create(**props)
        user = User(username=username, i_user=i_user)
        user.set_password(password)
        user.save()
    if rights is not None:
        roles = [create_role(f"role-{username}-{uuid.uuid4().hex[:6]}", rights)]
    elif roles is None:
        roles = [admin_role()]
    UserRole.objects.filter(user_id=user.i_user_id).delete()
    UserRole.objects.bulk_create([UserRole(user_id=user.i_user_id, role_id=getattr(r, "id", r)) for r in roles])
    invalidate_rights_cache()
    return User.objects.select_related("i_user").get(pk=user.pk)


def create_test_technical_user(username="TechUser", password=DEFAULT_PASSWORD, super_user=False):
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, is_staff=super_user, is_superuser=super_user)
        user.set_password(password)
        user.save()
    return user


def create_test_location(type_, code=None, name=None, parent=None):
    code = code or f"{type_}{uuid.uuid4().hex[:6]}"
    return Location.objects.create(type=type_, code=code, name=name or code, parent=parent)


def create_test_village(code_prefix="T"):
    """Region → district → ward → village; returns the village (walk .parent for the others)."""
    region = create_test_location("R", f"{code_prefix}R")
    district = create_test_location("D", f"{code_prefix}D", parent=region)
    ward = create_test_location("W", f"{code_prefix}W", parent=district)
    return create_test_location("V", f"{code_prefix}V", parent=ward)


def assign_user_districts(user, district_codes):
    districts = Location.objects.filter(code__in=district_codes, type="D", validity_to__isnull=True)
    UserDistrict.objects.bulk_create([UserDistrict(user_id=user.i_user_id, location=d) for d in districts])
    from core.location import invalidate_location_cache

    invalidate_location_cache()
    return list(districts)


def render_literal(value, gql_type=None):
    """A Python value as a GraphQL literal: strings quoted, lists and objects recursive, ``Enum(...)`` bare, and
    with ``gql_type`` given (the argument's schema type) enum values bare too."""
    from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLList, GraphQLNonNull, get_named_type

    def item_type(of):
        while isinstance(of, GraphQLNonNull):
            of = of.of_type
        return of.of_type if isinstance(of, GraphQLList) else of

    named = get_named_type(gql_type) if gql_type is not None else None
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(render_literal(v, gql_type and item_type(gql_type)) for v in value) + "]"
    if isinstance(value, dict):
        fields = named.fields if isinstance(named, GraphQLInputObjectType) else {}
        return "{" + ", ".join(f"{k}: {render_literal(v, fields[k].type if k in fields else None)}"
                               for k, v in value.items()) + "}"
    if isinstance(named, GraphQLEnumType):
        return str(value)
    return json.dumps(str(value))


def build_params(params):
    """Render a dict as GraphQL literal arguments (strings quoted, lists/dicts recursive)."""
    return ", ".join(f"{k}: {render_literal(v)}" for k, v in params.items())


class Enum:
    """Wrap a value to render it as a bare GraphQL enum literal in build_params."""

    def __init__(self, name):
        self.name = name


def post_graphql(query=None, variables=None, *, client=None, body=None, **headers):
    """One POST to the GraphQL endpoint as a client sends it (JSON body; ``body`` sends raw bytes instead)."""
    payload = body if body is not None else json.dumps({"query": query, "variables": variables or {}})
    return (client or Client()).post(GRAPHQL_URL, payload, content_type="application/json", **headers)


class GQL:
    """Small GraphQL client for tests: ``GQL(user).query(text)``, ``GQL(user).mutate(name, params)``."""

    def __init__(self, user=None, client=None):
        self.user = user
        self.client = client or Client()
        self.token = get_token(user) if user is not None else None

    def post(self, query, variables=None, **extra):
        headers = dict(extra)
        if self.token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return post_graphql(query, variables, client=self.client, **headers)

    def query(self, query, variables=None):
        response = self.post(query, variables)
        return response.json()

    def data(self, query, variables=None):
        """Run a query that must succeed and return its ``data``."""
        content = self.query(query, variables)
        assert "errors" not in content, content.get("errors")
        return content["data"]

    def mutate(self, name, params, client_mutation_id=None):
        """Send ``name(input: {params})`` and return the resulting MutationLog (refreshed)."""
        client_mutation_id = client_mutation_id or str(uuid.uuid4())
        params = {"clientMutationId": client_mutation_id, **params}
        text = f"mutation {{ {name}(input: {{ {build_params(params)} }}) {{ clientMutationId internalId }} }}"
        content = self.query(text)
        assert "errors" not in content, content.get("errors")
        return MutationLog.objects.get(id=content["data"][name]["internalId"])

    def mutate_raw(self, text):
        content = self.query(text)
        assert "errors" not in content, content.get("errors")
        internal_id = next(iter(content["data"].values()))["internalId"]
        return MutationLog.objects.get(id=internal_id)


def log_errors(log):
    return json.loads(log.error) if log.error else []


def assert_log_success(log):
    assert log.status == MutationLog.SUCCESS, log.error


def assert_log_error(log, text=None):
    assert log.status == MutationLog.ERROR, "mutation unexpectedly succeeded"
    if text is not None:
        assert text in log.error, log.error


def assert_anonymous_refused(client, name, params):
    """An anonymous mutation is refused visibly (``mutation.authentication_required``): no internalId, no log."""
    before = MutationLog.objects.count()
    params = {"clientMutationId": str(uuid.uuid4()), **params}
    content = client.query(f"mutation {{ {name}(input: {{ {build_params(params)} }}) {{ clientMutationId internalId }} }}")
    assert (content.get("data") or {}).get(name) is None, content
    assert [e["message"] for e in content.get("errors", [])] == ["mutation.authentication_required"], content
    assert MutationLog.objects.count() == before


# --- cost of a request: SQL statements and cache reads ---------------------------------------------------------
CACHE_READ_METHODS = ("get", "get_many", "has_key", "get_or_set")


class CacheReads:
    """Counts reads of the default cache (each a network round trip with Redis); nested calls count once."""

    def __init__(self):
        self.count = 0
        self.keys = []
        self._depth = 0

    def __enter__(self):
        from django.core.cache import caches

        self.backend = caches["default"]
        for name in CACHE_READ_METHODS:
            original = getattr(self.backend, name)

            def counted(*args, _original=original, **kwargs):
                if self._depth == 0:
                    self.count += 1
                    self.keys.append(args[0] if args else kwargs)
                self._depth += 1
                try:
                    return _original(*args, **kwargs)
                finally:
                    self._depth -= 1

            setattr(self.backend, name, counted)
        return self

    def __exit__(self, *exc):
        for name in CACHE_READ_METHODS:
            self.backend.__dict__.pop(name, None)


def request_cost(call):
    """``(SQL statements, cache reads)`` of ``call()``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries, CacheReads() as reads:
        call()
    return len(queries), reads.count
