import pytest


from .conftest import add_member, make_group, make_individual

pytestmark = pytest.mark.django_db

LIST_QUERIES = {
    "individual": "individual { totalCount edges { node { id uuid firstName } } }",
    "individualHistory": "individualHistory { totalCount edges { node { id } } }",
    "individualDataSource": "individualDataSource { totalCount }",
    "individualDataSourceUpload": "individualDataSourceUpload { totalCount }",
    "individualDataUploadHistory": "individualDataUploadHistory { totalCount }",
    "groupDataSource": "groupDataSource { totalCount }",
    "group": "group { totalCount edges { node { id code } } }",
    "groupHistory": "groupHistory { totalCount }",
    "groupIndividual": 'groupIndividual(group_Id: "5c7e3d3a-8f54-4b8e-9d2a-7c1f0e6b9a21") { totalCount }',
    "groupIndividualHistory": "groupIndividualHistory { totalCount }",
    "individualEnrollmentSummary": "individualEnrollmentSummary(customFilters: []) { numberOfSelectedIndividuals }",
    "groupEnrollmentSummary": "groupEnrollmentSummary(customFilters: []) { numberOfSelectedGroups }",
    "individualExport": 'individualExport(fields: ["id"])',
    "groupExport": 'groupExport(fields: ["id"])',
}


@pytest.mark.parametrize("name", sorted(LIST_QUERIES))
def test_queries_refuse_anonymous_and_users_without_right(name, gql, no_rights_user, make_user):
    group_right = name.startswith("group") and name != "groupDataSource"
    other_right = make_user("other-right", rights=[159001] if group_right else [180001])
    for user in (None, no_rights_user, other_right):
        content = gql(user).query("{ %s }" % LIST_QUERIES[name])
        assert content["errors"][0]["message"] == "Unauthorized", (user, content)


@pytest.mark.parametrize("name", sorted(LIST_QUERIES))
def test_queries_succeed_for_admin(name, gql, admin_user, registry):
    gql(admin_user).data("{ %s }" % LIST_QUERIES[name])


def _ids(data, key):
    return {edge["node"]["uuid"] for edge in data[key]["edges"]}


def test_admin_sees_everything(gql, admin_user, registry):
    data = gql(admin_user).data("{ individual { totalCount edges { node { uuid } } } group { totalCount } }")
    assert data["individual"]["totalCount"] == 4
    assert data["group"]["totalCount"] == 3


def test_individual_row_security(gql, district_b_user, registry):
    data = gql(district_b_user).data("{ individual { totalCount edges { node { uuid } } } }")
    # own district, no location, and a district-A individual in a location-less group
    assert _ids(data, "individual") == {str(registry[k].id) for k in ("ind_b", "ind_none", "ind_a_in_free_group")}


def test_group_row_security(gql, district_b_user, registry):
    data = gql(district_b_user).data("{ group { totalCount edges { node { uuid code location { code } } } } }")
    assert _ids(data, "group") == {str(registry["group_b"].id), str(registry["group_none"].id)}


@pytest.mark.parametrize("group_key,expected", [("group_b", 1), ("group_none", 1), ("group_a", 0)])
def test_group_individual_row_security(gql, district_b_user, registry, group_key, expected):
    group_id = registry[group_key].id
    data = gql(district_b_user).data('{ groupIndividual(group_Id: "%s") { totalCount } }' % group_id)
    assert data["groupIndividual"]["totalCount"] == expected


def test_group_individual_needs_valid_group_id(gql, admin_user, registry):
    data = gql(admin_user).data('{ groupIndividual(group_Id: "[object Object]") { totalCount } '
                                'all: groupIndividual { totalCount } }')
    assert data["groupIndividual"]["totalCount"] == 0 and data["all"]["totalCount"] == 0


def test_history_row_security(gql, district_b_user, registry):
    query = '{ individualHistory(id: "%s") { totalCount } groupHistory(id: "%s") { totalCount } ' \
            'groupIndividualHistory(individual_Id: "%s") { totalCount } }'
    own = gql(district_b_user).data(query % (registry["ind_b"].id, registry["group_b"].id, registry["ind_b"].id))
    assert own["individualHistory"]["totalCount"] == 1
    assert own["groupHistory"]["totalCount"] >= 1
    assert own["groupIndividualHistory"]["totalCount"] >= 1
    other = gql(district_b_user).data(query % (registry["ind_a"].id, registry["group_a"].id, registry["ind_a"].id))
    assert other == {"individualHistory": {"totalCount": 0}, "groupHistory": {"totalCount": 0},
                     "groupIndividualHistory": {"totalCount": 0}}


@pytest.mark.parametrize("key,kind,visible", [
    ("ind_none", "individual", True), ("ind_a_in_free_group", "individual", True),
    ("group_none", "group", True), ("gi_free", "membership", True), ("gi_b", "membership", True),
    ("gi_a", "membership", False)])
def test_history_row_security_follows_live_visibility(gql, district_b_user, registry, key, kind, visible):
    """Spec §4: history rows are visible when the live record is (membership history: by visible group)."""
    query = {"individual": '{ h: individualHistory(id: "%s") { totalCount } }',
             "group": '{ h: groupHistory(id: "%s") { totalCount } }',
             "membership": '{ h: groupIndividualHistory(id: "%s") { totalCount } }'}[kind]
    record = registry[key]
    total = gql(district_b_user).data(query % record.id)["h"]["totalCount"]
    assert (total == record.history.count()) if visible else total == 0
    assert record.history.count() >= 1


def test_group_history_head_is_n_plus_one_free(admin_user, district_b_user, villages,
                                               django_assert_max_num_queries):
    _households(admin_user, 12)  # 12 groups, each with its own head and several history rows
    query = ('{ groupHistory(first: 100, orderBy: ["-version"]) { totalCount edges { node { uuid version '
             'head { uuid firstName lastName location { code } userUpdated { username } } } } } }')
    for user in (admin_user, district_b_user):
        execute(user, "{ groupHistory(first: 1) { totalCount } }")  # warm up rights/location caches
        with django_assert_max_num_queries(3):  # count + page + the page's heads
            data = execute(user, query)
        nodes = [e["node"] for e in data["groupHistory"]["edges"]]
        heads = {n["head"]["uuid"] for n in nodes if n["head"]}
        assert len(heads) == 12 and len(nodes) > 12
        assert all(n["head"]["lastName"] == "L0" for n in nodes if n["head"])
    with django_assert_max_num_queries(2):  # head not asked: no extra query
        execute(admin_user, "{ groupHistory(first: 100) { totalCount edges { node { uuid } } } }")


def test_group_history_head_respects_row_security(gql, admin_user, district_b_user, villages):
    va, vb = villages
    group = make_group(admin_user, "GB2", vb)
    add_member(admin_user, group, make_individual(admin_user, "Head", "B", vb), role="HEAD")
    group_a = make_group(admin_user, "GA2", va)
    add_member(admin_user, group_a, make_individual(admin_user, "Head", "A", va), role="HEAD")
    data = gql(district_b_user).data('{ groupHistory(orderBy: ["-version"]) { edges { node { code head { lastName } '
                                     'jsonExt } } } }')
    nodes = [e["node"] for e in data["groupHistory"]["edges"]]
    assert {n["code"] for n in nodes} == {"GB2"}
    assert nodes[0]["head"] == {"lastName": "B"}


def test_individual_by_group_id_and_not_attached(gql, admin_user, registry):
    data = gql(admin_user).data('{ individual(groupId: "%s") { edges { node { uuid } } } '
                                'free: individual(filterNotAttachedToGroup: true) { edges { node { uuid } } } }'
                                % registry["group_a"].id)
    assert _ids(data, "individual") == {str(registry["ind_a"].id)}
    assert _ids(data, "free") == {str(registry["ind_none"].id)}


def test_filters_and_custom_filters(gql, admin_user):
    make_individual(admin_user, "Jane", "Smith", json_ext={"number_of_children": 3, "educated_level": "primary"})
    make_individual(admin_user, "John", "Smythe", json_ext={"number_of_children": 1})
    data = gql(admin_user).data(
        '{ a: individual(firstName_Icontains: "jan") { totalCount } '
        'b: individual(customFilters: ["number_of_children__gte__integer=2"]) { totalCount } '
        'c: individual(customFilters: ["educated_level__iexact__string=\\"PRIMARY\\""]) { totalCount } '
        'd: individual(dob_Lt: "1980-01-01") { totalCount } }')
    assert [data[k]["totalCount"] for k in "abcd"] == [1, 1, 1, 0]
    content = gql(admin_user).query('{ individual(customFilters: ["bad"]) { totalCount } }')
    assert "Invalid custom filter" in content["errors"][0]["message"]


def test_group_filters_by_member_name_and_head(gql, admin_user):
    group = make_group(admin_user, "HH-1")
    add_member(admin_user, group, make_individual(admin_user, "Zed", "Zulu", json_ext={"educated_level": "primary"}))
    make_group(admin_user, "HH-2")
    data = gql(admin_user).data(
        '{ a: group(firstName: "zed") { totalCount edges { node { code head { firstName lastName uuid } } } } '
        'b: group(customFilters: ["educated_level__iexact__string=primary"]) { totalCount } '
        'c: group(code_Icontains: "hh-") { totalCount } }')
    assert data["a"]["totalCount"] == 1
    assert data["a"]["edges"][0]["node"]["head"]["firstName"] == "Zed"
    assert data["b"]["totalCount"] == 1 and data["c"]["totalCount"] == 2


def test_json_ext_masking(gql, admin_user, make_user):
    make_individual(admin_user, json_ext={"educated_level": "primary", "number_of_children": 2})
    clerk = make_user("clerk", rights=[159001])
    node = gql(clerk).data("{ individual { edges { node { jsonExt } } } }")["individual"]["edges"][0]["node"]
    import json

    assert json.loads(node["jsonExt"]) == {"educated_level": "***************", "number_of_children": 2}


def _households(user, count, size=3):
    for n in range(count):
        group = make_group(user, f"HH{n}")
        for m in range(size):
            add_member(user, group, make_individual(user, f"F{n}", f"L{m}"), role="HEAD" if m == 0 else "SON")


INDIVIDUAL_PAGE = """{ individual(first: %d) { totalCount edges { node { uuid firstName userUpdated { username }
  memberships { role recipientType group { code } } } } } }"""
GROUP_PAGE = """{ group(first: %d) { totalCount edges { node { uuid code head { firstName lastName uuid }
  members { role individual { firstName lastName } } userUpdated { username } } } } }"""


def execute(user, query):
    """Run a query on the schema directly: the count then excludes the HTTP layer's token/user lookups."""
    from django.test import RequestFactory

    from openimis_be.schema import schema

    request = RequestFactory().post("/api/graphql")
    request.user = user
    result = schema.execute(query, context_value=request)
    assert not result.errors, result.errors
    return result.data


@pytest.mark.parametrize("page", [10, 100])
def test_list_queries_are_n_plus_one_free(admin_user, django_assert_max_num_queries, page):
    _households(admin_user, 35)
    execute(admin_user, "{ individual(first: 1) { totalCount } }")  # warm up rights/location caches
    with django_assert_max_num_queries(4):
        data = execute(admin_user, INDIVIDUAL_PAGE % page)
    assert len(data["individual"]["edges"]) == min(page, 105)
    assert all(e["node"]["memberships"][0]["group"]["code"] for e in data["individual"]["edges"])
    with django_assert_max_num_queries(4):
        data = execute(admin_user, GROUP_PAGE % page)
    assert len(data["group"]["edges"]) == min(page, 35)
    assert all(e["node"]["head"] and len(e["node"]["members"]) == 3 for e in data["group"]["edges"])
    with django_assert_max_num_queries(4):
        data = execute(admin_user, '{ groupIndividual(group_Id: "%s", first: 100) { totalCount edges { node { '
                                   'role individual { firstName } group { code } } } } }'
                                   % data["group"]["edges"][0]["node"]["uuid"])
    assert data["groupIndividual"]["totalCount"] == 3


def test_district_user_list_query_count(district_b_user, villages, admin_user, django_assert_max_num_queries):
    _households(admin_user, 10)
    execute(district_b_user, "{ individual(first: 1) { totalCount } }")
    with django_assert_max_num_queries(4):
        data = execute(district_b_user, INDIVIDUAL_PAGE % 100)
    assert data["individual"]["totalCount"] == 30
    with django_assert_max_num_queries(4):
        execute(district_b_user, GROUP_PAGE % 100)


def test_export_applies_row_security(gql, district_b_user, registry):
    from core.models import ExportableQueryModel

    name = gql(district_b_user).data(
        '{ individualExport(fields: ["id", "first_name", "json_ext"], '
        'fieldsColumns: "{\\"first_name\\": \\"First\\"}") }')["individualExport"]
    export = ExportableQueryModel.objects.get(name=name)
    lines = export.content.read().decode().strip().splitlines()
    assert lines[0].startswith("id,First")
    assert len(lines) == 1 + 3  # header + the three visible individuals


def test_enrollment_summary(gql, admin_user):
    make_individual(admin_user, json_ext={"number_of_children": 3})
    make_individual(admin_user, json_ext={"number_of_children": 1})
    data = gql(admin_user).data('{ individualEnrollmentSummary(customFilters: ["number_of_children__gt__integer=2"],'
                                ' benefitPlanId: "2f1e0d9c-8b7a-4654-9321-0fedcba98765") {'
                                ' totalNumberOfIndividuals numberOfSelectedIndividuals numberOfIndividualsToUpload } }')
    assert data["individualEnrollmentSummary"] == {
        "totalNumberOfIndividuals": "2", "numberOfSelectedIndividuals": "1", "numberOfIndividualsToUpload": "1"}


def test_global_schema_and_custom_filter_definitions(gql, admin_user, monkeypatch):
    from individual.apps import IndividualConfig

    monkeypatch.setattr(IndividualConfig, "individual_schema",
                        '{"properties": {"number_of_children": {"type": "integer"}}}')
    data = gql(admin_user).data('{ globalSchema { schema } customFilters(moduleName: "individual", '
                                'objectTypeName: "Individual") { type possibleFilters { field filter type } } }')
    assert "number_of_children" in data["globalSchema"]["schema"]
    filters = data["customFilters"][0]["possibleFilters"]
    assert {"field": "number_of_children", "filter": "gte", "type": "integer"} in filters


def test_membership_query_lists_members(gql, admin_user, registry):
    data = gql(admin_user).data(
        '{ groupIndividual(group_Id: "%s", isDeleted: false, orderBy: ["individual__lastName"]) '
        '{ totalCount edges { node { role recipientType individual { firstName } group { code } } } } }'
        % registry["group_a"].id)
    node = data["groupIndividual"]["edges"][0]["node"]
    assert node == {"role": "HEAD", "recipientType": "PRIMARY", "individual": {"firstName": "Alice"},
                    "group": {"code": "GA"}}


def test_node_lookup_needs_the_search_right(gql, admin_user, make_user, registry):
    """node(id:) only checks the login: each type applies its right (and row security) itself."""
    from graphql_relay import to_global_id

    from individual.models import GroupDataSource, IndividualDataSource, IndividualDataSourceUpload, \
        IndividualDataUploadRecords

    upload = IndividualDataSourceUpload(source_name="f.csv", source_type="individual import")
    upload.save(user=admin_user)
    source = IndividualDataSource(upload=upload, individual=registry["ind_none"], json_ext={})
    source.save(user=admin_user)
    group_source = GroupDataSource(upload=upload, group=registry["group_none"], json_ext={})
    group_source.save(user=admin_user)
    record = IndividualDataUploadRecords(data_upload=upload, workflow="w", json_ext={})
    record.save(user=admin_user)
    # no location: row security lets them through, only the right decides
    ind, grp, gi = registry["ind_none"], registry["group_none"], registry["gi_free"]
    nodes = [("IndividualGQLType", ind.id, 159001), ("IndividualHistoryGQLType", ind.history.first().history_id, 159001),
             ("GroupGQLType", grp.id, 180001), ("GroupHistoryGQLType", grp.history.first().history_id, 180001),
             ("GroupIndividualGQLType", gi.id, 180001),
             ("GroupIndividualHistoryGQLType", gi.history.first().history_id, 180001),
             ("IndividualDataSourceUploadGQLType", upload.id, 159001),
             ("IndividualDataSourceGQLType", source.id, 159001), ("GroupDataSourceGQLType", group_source.id, 159001),
             ("IndividualDataUploadQGLType", record.id, 159001)]
    individual_clerk = make_user("ind-clerk", rights=[159001])
    group_clerk = make_user("grp-clerk", rights=[180001])
    for type_name, pk, right in nodes:
        query = '{ node(id: "%s") { id } }' % to_global_id(type_name, str(pk))
        allowed, denied = (individual_clerk, group_clerk) if right == 159001 else (group_clerk, individual_clerk)
        assert gql(allowed).data(query)["node"] is not None, type_name
        assert gql(denied).data(query)["node"] is None, type_name


def test_membership_links_follow_the_rights_of_what_they_point_to(gql, make_user, registry):
    """A membership's individual is an individual record: a group clerk without the individual search right
    reads the membership (and its group) but not the individual, and the rest of the page is unaffected."""
    group_clerk = make_user("group-clerk", rights=[180001])
    query = ('{ groupIndividual(group_Id: "%s") { edges { node { role group { code } individual { firstName } } } } }'
             % registry["group_none"].id)  # no location: row security lets the clerks (without districts) see it
    assert gql(group_clerk).data(query)["groupIndividual"]["edges"] == [
        {"node": {"role": "HEAD", "group": {"code": "GN"}, "individual": None}}]
    both = make_user("both-clerk", rights=[159001, 180001])
    assert gql(both).data(query)["groupIndividual"]["edges"][0]["node"]["individual"] == {"firstName": "Fred"}


def test_without_a_programme_module_nobody_is_enrolled(gql, admin_user, monkeypatch):
    """The registry knows programmes only through the extension point a programme module registers into
    (``individual.services.register_programmes``): with none, nobody is enrolled anywhere."""
    from individual import services

    someone = make_individual(admin_user, json_ext={"number_of_children": 3})
    plan_id = "2f1e0d9c-8b7a-4654-9321-0fedcba98765"

    class OnePlan(services.Programmes):
        def individual_ids(self, plan_id=None):
            return services.Individual.objects.filter(id=someone.id).values("id")

    query = ('{ enrolled: individual(benefitPlanId: "%s") { totalCount } '
             'toEnrol: individual(benefitPlanToEnroll: "%s") { totalCount } '
             'individualEnrollmentSummary(benefitPlanId: "%s") { numberOfIndividualsNotAssignedToProgramme '
             'numberOfIndividualsAssignedToSelectedProgramme } }') % (plan_id, plan_id, plan_id)
    for programmes, enrolled in ((services.Programmes(), 0), (OnePlan(), 1)):
        monkeypatch.setattr(services, "_programmes", programmes)
        data = gql(admin_user).data(query)
        assert data["enrolled"]["totalCount"] == enrolled and data["toEnrol"]["totalCount"] == 1 - enrolled
        assert data["individualEnrollmentSummary"] == {"numberOfIndividualsNotAssignedToProgramme": str(1 - enrolled),
                                                       "numberOfIndividualsAssignedToSelectedProgramme": str(enrolled)}
