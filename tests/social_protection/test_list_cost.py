"""The beneficiary and group-beneficiary lists cost the same SQL statements and cache reads for 10 rows as for 100.

Read through HTTP GraphQL with what the frontend selects (``fetchBeneficiaries`` / ``fetchGroupBeneficiaries``
of openimis-fe-social_protection_js, with ``jsonExt``), eligibility computed (status and plan filtered, criteria
set), as an IMIS administrator and as a clerk holding only the beneficiary and schema search rights, masking on.
"""
import json

import pytest

from core.masking import MASK_STRING
from core.test_helpers import request_cost
from individual.bulk import create_households
from individual.models import Group, Individual
from social_protection.services import EnrollmentService

pytestmark = pytest.mark.django_db

CRITERIA = {"POTENTIAL": [{"field": "number_of_children", "filter": "gt", "type": "integer", "value": "1"}]}
PAGE_INFO = "pageInfo { hasNextPage, hasPreviousPage, startCursor, endCursor}"
BENEFICIARY_LIST = """{ beneficiary(benefitPlan_Id: "%s", isDeleted: false, status: POTENTIAL, first: %d) {
  totalCount %s edges { node { id,jsonExt,benefitPlan {id},individual {uuid, firstName, lastName, dob},status,
  isEligible } } } }"""
GROUP_BENEFICIARY_LIST = """{ groupBeneficiary(benefitPlan_Id: "%s", isDeleted: false, status: POTENTIAL, first: %d) {
  totalCount %s edges { node { id,jsonExt,group {uuid, id, code, head {uuid}},status,isEligible } } } }"""
# (SQL statements, cache reads): the user with its token check (one statement), the plan's criteria, count, page (joined with the plan and the
# individual or group); the rights generation and the user's rights entry read once per request
COST = (4, 2)
# issue 10 (row security of nested members): a caller restricted by row security (the clerk, an interactive user
# with no district) pays one more statement per page — which of the page's individuals / groups they may see —
# and reads their allowed locations (rights generation + entry, 2 cache reads, once per request)
RESTRICTED = (1, 2)


def expected(user, base=COST):
    return base if user.is_imis_admin else (base[0] + RESTRICTED[0], base[1] + RESTRICTED[1])


@pytest.fixture
def plans(admin_user, make_plan):
    """A plan of 110 beneficiaries and a group plan of 110 households (of 2), each enrolled set-based."""
    create_households(admin_user, 110, 0, [None], seed=1)
    create_households(admin_user, 220, 2, [None], seed=2)
    plan, group_plan = make_plan(criteria=CRITERIA), make_plan(code="GRP", type="GROUP", criteria=CRITERIA)
    service = EnrollmentService(admin_user)
    service.enroll_individuals(Individual.objects.filter(groupindividual__isnull=True), plan.id, "POTENTIAL",
                               maker_checker=False)
    service.enroll_groups(Group.objects.all(), group_plan.id, "POTENTIAL", maker_checker=False)
    return plan, group_plan


@pytest.fixture
def clerk(make_user):
    return make_user("clerk", rights=[170001, 171001])


def costs(client, query, plan):
    client.data(query % (plan.id, 1, PAGE_INFO))  # the user's rights entry and the per-process caches
    pages = {}

    def read(size):
        pages[size] = next(iter(client.data(query % (plan.id, size, PAGE_INFO)).values()))

    small, large = request_cost(lambda: read(10)), request_cost(lambda: read(100))
    assert [len(pages[size]["edges"]) for size in (10, 100)] == [10, 100]
    return small, large, [edge["node"] for edge in pages[100]["edges"]]


def test_beneficiary_list_cost_is_constant(plans, gql, admin_user, clerk):
    plan, _ = plans
    for user in (admin_user, clerk):
        small, large, nodes = costs(gql(user), BENEFICIARY_LIST, plan)
        assert small == large == expected(user), (user, small, large)
        assert all(node["individual"]["firstName"] and node["benefitPlan"]["id"] for node in nodes)
        assert {node["isEligible"] for node in nodes} == {True, False}
        levels = {json.loads(node["jsonExt"])["educated_level"] for node in nodes}
        assert levels == {MASK_STRING} if user is clerk else MASK_STRING not in levels


def test_group_beneficiary_list_cost_is_constant(plans, gql, admin_user, clerk):
    _, group_plan = plans
    for user in (admin_user, clerk):
        small, large, nodes = costs(gql(user), GROUP_BENEFICIARY_LIST, group_plan)
        # one more statement: the groups' live memberships with their individuals (the heads)
        assert small == large == expected(user, (COST[0] + 1, COST[1])), (user, small, large)
        assert all(node["group"]["code"] and node["group"]["head"]["uuid"] for node in nodes)
