"""``node(id:)`` on every Node type of the stitched schema: a user without rights gets nothing back."""
import io

import pytest
from django.core.management import call_command
from graphql_relay import to_global_id

from openimis_be.schema import schema

pytestmark = pytest.mark.django_db

# Readable by any logged-in user on purpose (the frontend's pickers and headers need them).
PUBLIC_TYPES = {"LocationGQLType"}


def node_types():
    for name, gql_type in sorted(schema.graphql_schema.type_map.items()):
        graphene_type = getattr(gql_type, "graphene_type", None)
        model = getattr(getattr(graphene_type, "_meta", None), "model", None)
        interfaces = getattr(gql_type, "interfaces", [])
        if model is not None and any(i.name == "Node" for i in interfaces) and name not in PUBLIC_TYPES:
            yield name, model


def test_node_lookup_without_rights_returns_nothing(admin_user, no_rights_user, gql):
    call_command("demo", stdout=io.StringIO())
    checked, leaks = [], []
    for type_name, model in node_types():
        own = {"core.User": no_rights_user.pk, "core.InteractiveUser": no_rights_user.i_user_id}
        manager = model._default_manager
        if model._meta.label in own:
            manager = manager.exclude(pk=own[model._meta.label])
        candidates = list(manager.order_by("pk")[:2])  # (one's own account is readable, by design)
        if any(f.name == "location" for f in model._meta.fields):
            # rows without location pass row security: the rights check must still stop them
            candidates += list(manager.filter(location__isnull=True).order_by("pk")[:2])
        if not candidates:
            continue
        for obj in candidates:
            query = f'{{ node(id: "{to_global_id(type_name, str(obj.pk))}") {{ id }} }}'
            content = gql(no_rights_user).query(query)
            if (content.get("data") or {}).get("node") is not None:
                leaks.append(type_name)
                break
        checked.append(type_name)
    assert not leaks, f"node() returns objects to a user without rights: {leaks}"
    assert len(checked) >= 5, checked
