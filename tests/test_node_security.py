"""``node(id:)`` on every Node type of the stitched schema (the module written from docs/DEVELOPING.md
included): a row of each type is made through the suite's factories; a user without rights gets nothing back,
and the control run — a superuser asking for the same ids — gets every one, so the sweep can see a leak."""
import pytest
from graphql_relay import to_global_id

from openimis_be.schema import schema
from tests.factories import factory_for

pytestmark = pytest.mark.django_db

# Readable by any logged-in user on purpose (the frontend's pickers and headers need them).
PUBLIC_TYPES = {"LocationGQLType"}


def node_types():
    for name, gql_type in sorted(schema.graphql_schema.type_map.items()):
        graphene_type = getattr(gql_type, "graphene_type", None)
        model = getattr(getattr(graphene_type, "_meta", None), "model", None)
        if model is not None and any(i.name == "Node" for i in getattr(gql_type, "interfaces", [])):
            yield name, model


NODE_TYPES = dict(node_types())


def make_row(model):
    """A row of ``model``: its factory's, or for a history model the history row of a live row."""
    live = getattr(model, "instance_type", None)  # simple-history models point at their live model
    made = factory_for(live or model)
    assert made is not None, f"no factory for {(live or model)._meta.label}: add one to tests/<app>/factories.py"
    obj = made()
    return obj.history.order_by("-history_date").first() if live else obj


def test_the_sweep_sees_every_module():
    labels = {model._meta.app_label for model in NODE_TYPES.values()}
    assert {"core", "individual", "social_protection", "tasks_management", "grievance_social_protection",
            "guide"} <= labels


@pytest.mark.parametrize("type_name", sorted(NODE_TYPES))
def test_node_lookup_needs_the_rights(type_name, superuser, no_rights_user, gql):
    row = make_row(NODE_TYPES[type_name])
    query = '{ node(id: "%s") { id } }' % to_global_id(type_name, str(row.pk))
    control = gql(superuser).data(query)["node"]
    assert control is not None, f"a superuser cannot read {type_name}: the sweep would prove nothing"
    denied = gql(no_rights_user).query(query)
    if type_name in PUBLIC_TYPES:
        assert (denied.get("data") or {}).get("node") is not None
    else:
        assert (denied.get("data") or {}).get("node") is None, f"{type_name} leaks through node(id:)"
    assert gql(None).query(query)["errors"][0]["message"] == "unauthorized"
