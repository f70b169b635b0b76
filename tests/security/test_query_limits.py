"""Query-shape attacks on the GraphQL endpoint (issue 10, items 20, 21, 22 and 23), sent as a client would.

20: the alias limit counts every aliased field the document would run, fragments expanded where they are spread.
21: no "Did you mean …" suggestions (schema names) when introspection is off.
22: malformed requests and ids get clear 400-style messages, never the HTML 500 page nor "Internal error"; history
    rows are fetchable by the id the API hands out, and no error names an internal column.
23: ``orderBy`` accepts only the type's own fields and its filter fields, never an arbitrary relation path.
"""
import base64
import json

import pytest
from django.test import override_settings
from graphql_relay import to_global_id

from core.test_helpers import post_graphql
from tests.individual.factories import GroupIndividualFactory, IndividualFactory

pytestmark = pytest.mark.django_db

INTERNAL = "Internal error"


def _post(body, **headers):
    return post_graphql(body=body, **headers)


def messages(content):
    return [e["message"] for e in content.get("errors", [])]


# --- item 20: aliases through fragments -------------------------------------------------------------------------
def test_aliases_of_a_fragment_count_at_every_spread(gql, admin_user):
    """12 aliases written, 22 run: the fragment's 10 aliases run under both aliased lists."""
    query = """
    query { x1: locations { edges { node { ...F } } } x2: locations { edges { node { ...F } } } }
    fragment F on LocationGQLType { %s }
    """ % " ".join(f"a{i}: code" for i in range(10))
    content = gql(admin_user).query(query)
    assert any("aliases" in m for m in messages(content)), content
    assert content.get("data") is None


def test_aliases_of_nested_fragments_multiply(gql, admin_user):
    """Each of 4 aliased parents spreads a fragment of 4 aliased parents: 8 aliases written, 20 run."""
    query = """
    query { locations { edges { node { ...Outer } } } }
    fragment Outer on LocationGQLType { %s }
    fragment Inner on LocationGQLType { %s }
    """ % (" ".join(f"o{i}: parent {{ ...Inner }}" for i in range(4)),
           " ".join(f"i{i}: parent {{ code }}" for i in range(4)))
    content = gql(admin_user).query(query)
    assert any("aliases" in m for m in messages(content)), content


def test_fragments_within_the_alias_limit_still_run(gql, admin_user):
    query = """
    query { locations { edges { node { ...F } } } x: locations { edges { node { ...F } } } }
    fragment F on LocationGQLType { c: code n: name }
    """
    gql(admin_user).data(query)


def test_cyclic_fragments_do_not_hang_the_alias_count(gql, admin_user):
    query = """
    query { locations { edges { node { ...A } } } }
    fragment A on LocationGQLType { a: parent { ...B } }
    fragment B on LocationGQLType { b: parent { ...A } }
    """
    content = gql(admin_user).query(query)
    assert messages(content) and not any(INTERNAL in m for m in messages(content))


def test_fragments_spread_many_times_are_measured_in_linear_time(gql, admin_user):
    """40 fragments, each spreading the previous one twice: 2^40 paths if the limits walk every spread (the
    depth and alias counts once took 7 s of CPU for 20 such fragments); each fragment is measured once."""
    import time

    fragments = ["fragment F0 on LocationGQLType { code }"] + [
        f"fragment F{i} on LocationGQLType {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 40)]
    query = "query { locations { edges { node { ...F39 } } } }\n" + "\n".join(fragments)
    started = time.monotonic()
    gql(admin_user).data(query)
    assert time.monotonic() - started < 5


# --- item 21: no schema suggestions without introspection -------------------------------------------------------
SUGGESTING = [
    "{ languags { code } }",  # unknown field
    "{ languages { cod } }",  # unknown sub-field
    "{ locations(frst: 1) { totalCount } }",  # unknown argument
    'mutation { createRole(input: {clientMutationId: "x", nam: "R"}) { internalId } }',  # unknown input field
    "query ($x: Strng) { languages { code } }",  # unknown type
]


@pytest.mark.parametrize("query", SUGGESTING)
def test_no_did_you_mean_when_introspection_is_off(gql, admin_user, query):
    with override_settings(GRAPHQL_INTROSPECTION=False):
        content = gql(admin_user).query(query)
    assert content.get("errors"), content
    assert not any("Did you mean" in m for m in messages(content)), messages(content)


def test_no_did_you_mean_in_variable_errors_when_introspection_is_off(gql, admin_user):
    """An unknown input field sent in the variables is refused while executing, not by a validation rule."""
    query = "mutation ($input: CreateRoleMutationInput!) { createRole(input: $input) { internalId } }"
    with override_settings(GRAPHQL_INTROSPECTION=False):
        content = gql(admin_user).query(query, {"input": {"clientMutationId": "x", "nam": "R"}})
    assert content.get("errors"), content
    assert not any("Did you mean" in m for m in messages(content)), messages(content)


def test_no_did_you_mean_for_anonymous_callers_either():
    with override_settings(GRAPHQL_INTROSPECTION=False):
        response = _post(json.dumps({"query": "{ individul { totalCount } }"}))
    assert response.status_code == 400
    assert not any("Did you mean" in m for m in messages(response.json()))


def test_suggestions_kept_when_introspection_is_on(gql, admin_user):
    with override_settings(GRAPHQL_INTROSPECTION=True):
        content = gql(admin_user).query("{ languags { code } }")
    assert any("Did you mean" in m for m in messages(content))


# --- item 22: clear answers to malformed requests ---------------------------------------------------------------
@pytest.mark.parametrize("body", [
    {"query": 12345},
    {"query": ["{ languages { code } }"]},
    {"query": {"q": 1}},
    {"query": "{ languages { code } }", "variables": [1]},
    {"query": "{ languages { code } }", "variables": "[1]"},
    {"query": "{ languages { code } }", "operationName": 5},
    [{"query": "{ languages { code } }"}],
])
def test_malformed_request_bodies_are_json_400(body):
    response = _post(json.dumps(body))
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    errors = messages(response.json())
    assert errors and not any(INTERNAL in m for m in errors), errors


@pytest.mark.parametrize("node_id", [
    "!!!",
    "",
    base64.b64encode(b"NoSuchType:1").decode(),
    base64.b64encode(b"no colon at all").decode(),
    to_global_id("Query", "1"),  # a type, but not a Node
    to_global_id("IndividualGQLType", "not-a-uuid"),
])
def test_bad_node_ids_get_a_clear_message(gql, admin_user, node_id):
    content = gql(admin_user).query('{ node(id: "%s") { id } }' % node_id)
    assert (content.get("data") or {}).get("node") is None
    errors = messages(content)
    assert not any(INTERNAL in m for m in errors), errors
    if errors:
        assert any("id" in m.lower() for m in errors), errors


def test_order_by_a_generic_relation_is_a_clear_error(gql, admin_user):
    from tests.grievance_social_protection.factories import TicketFactory

    TicketFactory()
    content = gql(admin_user).query('{ tickets(orderBy: ["reporter"]) { totalCount } }')
    errors = messages(content)
    assert errors and not any(INTERNAL in m for m in errors), errors
    assert any("order" in m.lower() for m in errors), errors


@pytest.mark.parametrize("params", ["[1]", "1", '"text"', "null", "{not json"])
def test_custom_filters_additional_params_must_be_an_object(gql, admin_user, params):
    query = '{ customFilters(moduleName: "individual", objectTypeName: "Individual", additionalParams: %s) { code } }'
    content = gql(admin_user).query(query % json.dumps(params))
    errors = messages(content)
    if params == "null":  # JSON null is "no parameters"
        assert not errors, errors
        return
    assert errors and not any(INTERNAL in m for m in errors), errors
    assert any("additionalParams" in m for m in errors), errors


def test_history_rows_are_fetchable_by_the_id_the_api_gives(gql, admin_user):
    person = IndividualFactory(first_name="Ada")
    person.first_name = "Adah"
    person.save(user=admin_user)
    rows = gql(admin_user).data('{ individualHistory(id: "%s", orderBy: ["-version"]) { edges { node { id uuid '
                                'version firstName } } } }' % person.id)["individualHistory"]["edges"]
    assert len(rows) == 2
    for row in rows:
        content = gql(admin_user).query('{ node(id: "%s") { id ... on IndividualHistoryGQLType { uuid version '
                                        'firstName } } }' % row["node"]["id"])
        assert "errors" not in content, content
        assert content["data"]["node"] is not None, row
        assert content["data"]["node"]["uuid"] == str(person.id)


def test_history_node_of_an_unreadable_record_is_null(gql, admin_user, no_rights_user):
    person = IndividualFactory()
    row = gql(admin_user).data('{ individualHistory(id: "%s") { edges { node { id } } } }' % person.id)
    node_id = row["individualHistory"]["edges"][0]["node"]["id"]
    assert gql(no_rights_user).data('{ node(id: "%s") { id } }' % node_id)["node"] is None


@pytest.mark.parametrize("raw", ["not-a-number", "12abc", "-1", str(2**70)])
def test_history_node_errors_name_no_internal_column(gql, admin_user, raw):
    IndividualFactory()
    content = gql(admin_user).query('{ node(id: "%s") { id } }' % to_global_id("IndividualHistoryGQLType", raw))
    assert (content.get("data") or {}).get("node") is None
    text = json.dumps(content)
    assert "history_id" not in text and INTERNAL not in text, text


# --- item 23: orderBy only on the type's own and filter fields --------------------------------------------------
@pytest.mark.parametrize("order", [
    "userCreated__password",
    "user_created__password",
    "-userCreated__username",
    "location__parent__code",
    "userUpdated__iUser__email",
    "jsonExt",
])
def test_order_by_an_arbitrary_relation_is_refused(gql, admin_user, order):
    IndividualFactory()
    content = gql(admin_user).query('{ individual(orderBy: ["%s"]) { totalCount edges { node { id } } } }' % order)
    errors = messages(content)
    assert errors and any("order" in m.lower() for m in errors), content
    assert (content.get("data") or {}).get("individual") is None


def test_order_by_a_hidden_column_is_refused(gql, admin_user):
    """``password`` is a column of the user model, not a field of the type: no ordering oracle on it."""
    content = gql(admin_user).query('{ users(orderBy: ["password"]) { totalCount } }')
    assert any("order" in m.lower() for m in messages(content)), content


@pytest.mark.parametrize("field,order", [
    ("individual", "lastName"),
    ("individual", "-dateCreated"),
    ("individual", "-version"),
    ("individual", "?"),
    ("users", "iUser__lastName"),  # the frontend's user picker: a filter field
    ("mutationLogs", "-request_date_time"),
    ("groupIndividual", "individual__lastName"),  # a filter field of the memberships list
])
def test_order_by_own_and_filter_fields_still_works(gql, admin_user, field, order):
    GroupIndividualFactory()
    args = 'group_Id: "%s", ' % GroupIndividualFactory._meta.model.objects.first().group_id \
        if field == "groupIndividual" else ""
    gql(admin_user).data('{ %s(%sorderBy: ["%s"]) { totalCount } }' % (field, args, order))


def test_order_by_relation_through_filter_field_orders_rows(gql, admin_user):
    first = GroupIndividualFactory(individual=IndividualFactory(last_name="Zed"))
    GroupIndividualFactory(group=first.group, individual=IndividualFactory(last_name="Abe"))
    data = gql(admin_user).data('{ groupIndividual(group_Id: "%s", orderBy: ["individual__lastName"]) { edges { '
                                'node { individual { lastName } } } } }' % first.group_id)
    assert [e["node"]["individual"]["lastName"] for e in data["groupIndividual"]["edges"]] == ["Abe", "Zed"]
