"""Issue 10, item 5: masked attributes must not be recoverable through filters.

The probe read a masked attribute one character at a time with ``customFilters: ["educated_level__istartswith__string=t"]``
(then ``te``, ``ter`` …) and watched ``totalCount``. A filter on a masked ``json_ext`` path is refused, with a clear
business error, for callers who may not see it unmasked (core right 900101) — on every list and count that takes
custom filters (individuals, groups, memberships, beneficiaries, group beneficiaries, enrolment summaries, exports,
enrolment by criteria). Requests are sent as the frontend sends them (HTTP, bearer token).
"""
import json

import pytest

from core.test_helpers import assert_log_error, assert_log_success
from social_protection.models import Beneficiary
from tests.individual.factories import GroupFactory, GroupIndividualFactory, IndividualFactory
from tests.social_protection.factories import BeneficiaryFactory, BenefitPlanFactory, GroupBeneficiaryFactory

pytestmark = pytest.mark.django_db

ORACLE = "educated_level__istartswith__string=t"
REFUSED = "Filtering on the masked attribute 'educated_level' is not allowed"
UNMASK = 900101
REGISTRY = [159001, 180001, 180002]
BENEFICIARIES = [170001, 171001]


@pytest.fixture
def household(admin_user):
    group = GroupFactory(code="HH-1", acting_user=admin_user)
    head = IndividualFactory(first_name="Hana", json_ext={"educated_level": "tertiary", "number_of_children": 3},
                             acting_user=admin_user)
    GroupIndividualFactory(group=group, individual=head, role="HEAD", acting_user=admin_user)
    plan = BenefitPlanFactory(acting_user=admin_user)
    group_plan = BenefitPlanFactory(type="GROUP", acting_user=admin_user)
    BeneficiaryFactory(individual=head, benefit_plan=plan, json_ext=dict(head.json_ext), acting_user=admin_user)
    GroupBeneficiaryFactory(group=group, benefit_plan=group_plan, json_ext=dict(head.json_ext), acting_user=admin_user)
    return {"group": group, "head": head, "plan": plan, "group_plan": group_plan}


def lists(h):
    filters = json.dumps([ORACLE])
    return {
        "individual": '{ individual(customFilters: %s) { totalCount edges { node { id } } } }' % filters,
        "group": '{ group(customFilters: %s) { totalCount edges { node { id } } } }' % filters,
        "groupIndividual": '{ groupIndividual(group_Id: "%s", customFilters: %s) { totalCount } }'
                           % (h["group"].id, filters),
        "beneficiary": '{ beneficiary(benefitPlan_Id: "%s", customFilters: %s) { totalCount } }'
                       % (h["plan"].id, filters),
        "groupBeneficiary": '{ groupBeneficiary(benefitPlan_Id: "%s", customFilters: %s) { totalCount } }'
                            % (h["group_plan"].id, filters),
        "individualEnrollmentSummary": '{ individualEnrollmentSummary(customFilters: %s, benefitPlanId: "%s") '
                                       '{ numberOfSelectedIndividuals } }' % (filters, h["plan"].id),
        "groupEnrollmentSummary": '{ groupEnrollmentSummary(customFilters: %s, benefitPlanId: "%s") '
                                  '{ numberOfSelectedGroups } }' % (filters, h["group_plan"].id),
        "individualExport": '{ individualExport(customFilters: %s, fields: ["id"]) }' % filters,
        "groupExport": '{ groupExport(customFilters: %s, fields: ["id"]) }' % filters,
        "beneficiaryExport": '{ beneficiaryExport(benefitPlan_Id: "%s", customFilters: %s, fields: ["id"]) }'
                             % (h["plan"].id, filters),
        # group mode (fields name group__id): the filter reads the group's own json_ext (a copy of the head's)
        "groupBeneficiaryExport": '{ groupBeneficiaryExport(benefitPlan_Id: "%s", customFilters: %s, '
                                  'fields: ["id", "group__id"]) }' % (h["group_plan"].id, filters),
    }


@pytest.mark.parametrize("name", ["individual", "group", "groupIndividual", "beneficiary", "groupBeneficiary",
                                  "individualEnrollmentSummary", "groupEnrollmentSummary", "individualExport",
                                  "groupExport", "beneficiaryExport", "groupBeneficiaryExport"])
def test_a_filter_on_a_masked_attribute_is_refused(gql, make_user, household, name):
    clerk = make_user("clerk", rights=REGISTRY + BENEFICIARIES)
    content = gql(clerk).query(lists(household)[name])
    assert content["data"][name] is None, content
    assert [error["message"] for error in content["errors"]] == [REFUSED]


@pytest.mark.parametrize("name", ["individual", "group", "beneficiary", "groupBeneficiary",
                                  "individualEnrollmentSummary"])
def test_a_user_who_sees_the_clear_value_may_filter_on_it(gql, make_user, household, name):
    auditor = make_user("auditor", rights=REGISTRY + BENEFICIARIES + [UNMASK])
    data = gql(auditor).data(lists(household)[name])[name]
    # the summary selects individuals without a household: the head is in one
    expected = "0" if name == "individualEnrollmentSummary" else 1
    assert data.get("totalCount", data.get("numberOfSelectedIndividuals")) == expected


def test_the_oracle_no_longer_answers_character_by_character(gql, make_user, household):
    clerk = make_user("clerk", rights=REGISTRY)
    answers = []
    for prefix in ("t", "te", "x", "ter"):
        content = gql(clerk).query('{ individual(customFilters: ["educated_level__istartswith__string=%s"]) '
                                   '{ totalCount } }' % prefix)
        answers.append((content["data"]["individual"], [e["message"] for e in content.get("errors", [])]))
    assert {json.dumps(a) for a in answers} == {json.dumps((None, [REFUSED]))}


@pytest.mark.parametrize("oracle", [
    "educated_level__iexact__string=tertiary",
    "educated_level__icontains__string=ert",
    "beneficiary_data_source__istartswith__string=c",
    "educated_level__sub__iexact__string=x",   # a key below a masked attribute
])
def test_every_lookup_and_every_masked_path_is_refused(gql, make_user, household, oracle):
    clerk = make_user("clerk", rights=REGISTRY)
    content = gql(clerk).query('{ individual(customFilters: %s) { totalCount } }' % json.dumps([oracle]))
    assert content["data"]["individual"] is None
    assert "is not allowed" in content["errors"][0]["message"] and "masked attribute" in content["errors"][0]["message"]


def test_unmasked_attributes_still_filter(gql, make_user, household):
    clerk = make_user("clerk", rights=REGISTRY)
    data = gql(clerk).data('{ individual(customFilters: ["number_of_children__gte__integer=3"]) { totalCount } }')
    assert data["individual"]["totalCount"] == 1


def test_enrolment_by_a_masked_criterion_is_refused(gql, make_user, household, admin_user, monkeypatch):
    """Enrolling by ``educated_level`` then counting the plan's beneficiaries is the same oracle."""
    from social_protection.apps import SocialProtectionConfig

    monkeypatch.setattr(SocialProtectionConfig, "enable_maker_checker_logic_enrollment", False)
    plan = BenefitPlanFactory(code="NEW", acting_user=admin_user)
    loner = IndividualFactory(first_name="Lone", json_ext={"educated_level": "tertiary"}, acting_user=admin_user)
    clerk = make_user("clerk", rights=REGISTRY)
    log = gql(clerk).mutate("confirmIndividualEnrollment", {"customFilters": [ORACLE], "benefitPlanId": str(plan.id),
                                                            "status": "ACTIVE"})
    assert_log_error(log, REFUSED)
    assert not Beneficiary.objects.filter(benefit_plan=plan).exists()
    # with the unmasking right the same criterion enrols
    auditor = make_user("auditor", rights=REGISTRY + [UNMASK])
    assert_log_success(gql(auditor).mutate("confirmIndividualEnrollment", {
        "customFilters": [ORACLE], "benefitPlanId": str(plan.id), "status": "ACTIVE"}))
    assert list(Beneficiary.objects.filter(benefit_plan=plan).values_list("individual_id", flat=True)) == [loner.id]


def test_the_group_history_head_filter_is_refused_when_the_head_is_masked(gql, make_user, household, monkeypatch):
    """``groupHistory(jsonExtHead_Icontains:)`` reads ``json_ext.head``: refused like a custom filter when masked."""
    from individual.apps import IndividualConfig

    clerk = make_user("clerk", rights=REGISTRY)
    query = '{ groupHistory(jsonExtHead_Icontains: "Ha") { totalCount } }'
    assert gql(clerk).data(query)["groupHistory"]["totalCount"] >= 1  # not masked by default
    monkeypatch.setattr(IndividualConfig, "individual_mask_fields", ["json_ext.head", "json_ext.educated_level"])
    content = gql(clerk).query(query)
    assert content["data"]["groupHistory"] is None
    assert content["errors"][0]["message"] == "Filtering on the masked attribute 'head' is not allowed"
    auditor = make_user("auditor", rights=REGISTRY + [UNMASK])
    assert gql(auditor).data(query)["groupHistory"]["totalCount"] >= 1
