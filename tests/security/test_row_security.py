"""Issue 10, item 8: row security does not stop at the registry lists.

A clerk restricted to district A must neither see nor count individuals and groups of district B through a
beneficiary's ``individual``, a group beneficiary's ``group``, the beneficiary lists and their filters, the enrolment
summaries, an enrolment by criteria, or a ticket's reporter fields. Requests are sent over HTTP as the frontend
sends them (bearer token).
"""
import json

import pytest

from core.test_helpers import assign_user_districts, assert_log_success, create_test_village
from social_protection.models import Beneficiary, GroupBeneficiary
from tests.grievance_social_protection.factories import TicketFactory
from tests.individual.factories import GroupFactory, GroupIndividualFactory, IndividualFactory
from tests.social_protection.factories import BeneficiaryFactory, BenefitPlanFactory, GroupBeneficiaryFactory

pytestmark = pytest.mark.django_db

REGISTRY = [159001, 180001, 180002]
BENEFICIARIES = [170001, 171001]
TICKETS = [127000]


@pytest.fixture
def world(admin_user):
    """Individuals, households, beneficiaries in district A and district B."""
    va, vb = create_test_village("A"), create_test_village("B")
    data = {}
    for key, village in (("a", va), ("b", vb)):
        loner = IndividualFactory(first_name=f"Lone{key.upper()}", location=village,
                                  json_ext={"number_of_children": 2}, acting_user=admin_user)
        head = IndividualFactory(first_name=f"Head{key.upper()}", location=village, acting_user=admin_user)
        group = GroupFactory(code=f"HH-{key.upper()}", location=village, acting_user=admin_user)
        GroupIndividualFactory(group=group, individual=head, role="HEAD", acting_user=admin_user)
        data[key] = {"loner": loner, "head": head, "group": group}
    plan = BenefitPlanFactory(code="IND", acting_user=admin_user)
    group_plan = BenefitPlanFactory(code="GRP", type="GROUP", acting_user=admin_user)
    for key in ("a", "b"):
        data[key]["beneficiary"] = BeneficiaryFactory(individual=data[key]["loner"], benefit_plan=plan,
                                                      acting_user=admin_user)
        data[key]["group_beneficiary"] = GroupBeneficiaryFactory(group=data[key]["group"], benefit_plan=group_plan,
                                                                 acting_user=admin_user)
    data.update(plan=plan, group_plan=group_plan)
    return data


@pytest.fixture
def clerk_a(make_user, world):
    return make_user("clerk-a", rights=REGISTRY + BENEFICIARIES + TICKETS, districts=["AD"])


@pytest.fixture
def beneficiary_clerk_a(make_user, world):
    """Only the beneficiary rights (spec §1.6: a beneficiary's member is read by the beneficiary right)."""
    return make_user("bclerk-a", rights=BENEFICIARIES, districts=["AD"])


def names(content, key, member, field):
    return sorted(edge["node"][member][field] if edge["node"][member] else None
                  for edge in content[key]["edges"])


@pytest.mark.parametrize("clerk", ["clerk_a", "beneficiary_clerk_a"])
def test_beneficiary_list_shows_and_counts_no_individual_of_another_district(gql, world, clerk, request):
    user = request.getfixturevalue(clerk)
    data = gql(user).data('{ beneficiary(benefitPlan_Id: "%s") { totalCount edges { node { id individual '
                          '{ id firstName jsonExt } } } } }' % world["plan"].id)
    assert data["beneficiary"]["totalCount"] == 1
    assert names(data, "beneficiary", "individual", "firstName") == ["LoneA"]


def test_beneficiary_member_filters_are_no_oracle_on_another_district(gql, world, clerk_a):
    data = gql(clerk_a).data('{ beneficiary(benefitPlan_Id: "%s", individual_FirstName_Istartswith: "LoneB") '
                             '{ totalCount } }' % world["plan"].id)
    assert data["beneficiary"]["totalCount"] == 0


@pytest.mark.parametrize("clerk", ["clerk_a", "beneficiary_clerk_a"])
def test_group_beneficiary_list_shows_no_group_of_another_district(gql, world, clerk, request):
    user = request.getfixturevalue(clerk)
    data = gql(user).data('{ groupBeneficiary(benefitPlan_Id: "%s") { totalCount edges { node { id group '
                          '{ id code head { firstName } } } } } }' % world["group_plan"].id)
    assert data["groupBeneficiary"]["totalCount"] == 1
    assert names(data, "groupBeneficiary", "group", "code") == ["HH-A"]
    [edge] = data["groupBeneficiary"]["edges"]
    assert edge["node"]["group"]["head"]["firstName"] == "HeadA"


def test_a_beneficiary_of_another_district_by_node_id_is_hidden(gql, world, beneficiary_clerk_a):
    import base64

    def node(key):
        node_id = base64.b64encode(f"BeneficiaryGQLType:{world[key]['beneficiary'].id}".encode()).decode()
        return gql(beneficiary_clerk_a).query('{ node(id: "%s") { ... on BeneficiaryGQLType { id individual '
                                              '{ firstName } } } }' % node_id)

    assert node("a")["data"]["node"]["individual"]["firstName"] == "LoneA"
    content = node("b")
    assert content["data"]["node"] is None
    assert "LoneB" not in json.dumps(content)


def test_admin_still_sees_every_district(gql, world, admin_user):
    data = gql(admin_user).data('{ beneficiary(benefitPlan_Id: "%s") { totalCount edges { node { individual '
                                '{ firstName } } } } }' % world["plan"].id)
    assert names(data, "beneficiary", "individual", "firstName") == ["LoneA", "LoneB"]


def test_enrolment_summaries_count_only_the_callers_district(gql, world, clerk_a):
    data = gql(clerk_a).data('{ individualEnrollmentSummary(benefitPlanId: "%s") { numberOfSelectedIndividuals '
                             'totalNumberOfIndividuals numberOfIndividualsAssignedToSelectedProgramme } '
                             'groupEnrollmentSummary(benefitPlanId: "%s") { numberOfSelectedGroups '
                             'totalNumberOfGroups } }' % (world["plan"].id, world["group_plan"].id))
    assert data["individualEnrollmentSummary"] == {
        "numberOfSelectedIndividuals": "1", "totalNumberOfIndividuals": "2",
        "numberOfIndividualsAssignedToSelectedProgramme": "1"}
    assert data["groupEnrollmentSummary"] == {"numberOfSelectedGroups": "1", "totalNumberOfGroups": "1"}


@pytest.mark.parametrize("maker_checker", [False, True], ids=["direct", "approval-task"])
def test_enrolment_by_criteria_enrols_only_the_callers_district(gql, world, clerk_a, admin_user, monkeypatch,
                                                               maker_checker):
    from individual.models import IndividualDataSource
    from social_protection.apps import SocialProtectionConfig

    monkeypatch.setattr(SocialProtectionConfig, "enable_maker_checker_logic_enrollment", maker_checker)
    plan = BenefitPlanFactory(code="NEW", acting_user=admin_user)
    group_plan = BenefitPlanFactory(code="NEWG", type="GROUP", acting_user=admin_user)
    for name, target in (("confirmIndividualEnrollment", plan), ("confirmGroupEnrollment", group_plan)):
        assert_log_success(gql(clerk_a).mutate(name, {
            "customFilters": [], "benefitPlanId": str(target.id), "status": "ACTIVE"}))
    if maker_checker:
        # nothing staged: each upload stores the criteria and the maker, whose row security the re-run keeps
        from individual.models import IndividualDataSourceUpload
        from individual.services import enrolment_selection_of_upload

        assert not IndividualDataSource.objects.exists()
        linked = set()
        for upload in IndividualDataSourceUpload.objects.all():
            _, selection = enrolment_selection_of_upload(upload.id)
            assert selection.user_id == str(clerk_a.id)
            linked |= set(selection.people().values_list("id", flat=True))
        assert linked == {world["a"]["loner"].id, world["a"]["head"].id}
    else:
        assert list(Beneficiary.objects.filter(benefit_plan=plan).values_list("individual_id", flat=True)) == [
            world["a"]["loner"].id]
        assert list(GroupBeneficiary.objects.filter(benefit_plan=group_plan).values_list("group_id", flat=True)) == [
            world["a"]["group"].id]


@pytest.mark.parametrize("reporter", ["loner", "beneficiary"])
def test_ticket_reporter_fields_hide_a_reporter_of_another_district(gql, world, clerk_a, admin_user, reporter):
    ticket_b = TicketFactory(title="B", reporter=world["b"][reporter], acting_user=admin_user)
    ticket_a = TicketFactory(title="A", reporter=world["a"][reporter], acting_user=admin_user)
    data = gql(clerk_a).data('{ tickets { edges { node { id title reporter reporterId reporterFirstName '
                             'reporterLastName reporterDob } } } }')
    nodes = {edge["node"]["title"]: edge["node"] for edge in data["tickets"]["edges"]}
    assert nodes["A"]["reporterFirstName"] == "LoneA" and nodes["A"]["reporter"]
    hidden = nodes["B"]
    assert (hidden["reporter"], hidden["reporterFirstName"], hidden["reporterLastName"], hidden["reporterDob"]) == (
        None, None, None, None)
    assert "LoneB" not in json.dumps(data)
    assert ticket_a and ticket_b


def test_ticket_reporter_json_is_masked(gql, world, make_user, admin_user):
    loner = world["a"]["loner"]
    loner.json_ext = {"educated_level": "tertiary", "number_of_children": 2}
    loner.save(user=admin_user)
    TicketFactory(title="A", reporter=loner, acting_user=admin_user)
    officer = make_user("officer", rights=TICKETS)  # no unmasking right
    assign_user_districts(officer, ["AD"])
    data = gql(officer).data('{ tickets { edges { node { reporter } } } }')
    reporter = json.loads(json.loads(json.dumps(data["tickets"]["edges"][0]["node"]["reporter"])))
    reporter = json.loads(reporter) if isinstance(reporter, str) else reporter
    assert reporter["firstName"] == "LoneA"
    assert reporter["jsonExt"]["educated_level"] != "tertiary"
