"""The SQL of an enrolment selection (issue 11): one pass over the registry, semi-joins and anti-joins (EXISTS),
no DISTINCT over wide rows and no ``id IN (selection)`` re-join; the preview's counts in two statements."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from individual.selectors import groups_selectable, individuals_without_group
from individual.services import EnrolmentSelection, IndividualService
from tests.individual.factories import GroupFactory, GroupIndividualFactory, IndividualFactory

pytestmark = pytest.mark.django_db

CRITERION = "number_of_children__gt__integer=1"


def sql(queryset):
    return str(queryset.query).upper()


@pytest.fixture
def registry(admin_user):
    free = IndividualFactory(first_name="Free", json_ext={"number_of_children": 3}, acting_user=admin_user)
    member = IndividualFactory(first_name="Member", json_ext={"number_of_children": 3}, acting_user=admin_user)
    IndividualFactory(first_name="NoKids", json_ext={"number_of_children": 0}, acting_user=admin_user)
    group = GroupFactory(code="HH", acting_user=admin_user)
    GroupIndividualFactory(group=group, individual=member, role="HEAD", acting_user=admin_user)
    return {"free": free, "member": member, "group": group}


def test_candidates_are_selected_in_one_pass_without_distinct(registry, admin_user):
    selected = individuals_without_group([CRITERION], admin_user)
    text = sql(selected)
    assert "DISTINCT" not in text and "JOIN" not in text and "NOT EXISTS" in text
    assert list(selected) == [registry["free"]]
    groups = groups_selectable([], admin_user)
    assert "DISTINCT" not in sql(groups) and list(groups) == [registry["group"]]


def test_the_not_yet_enrolled_selection_is_an_anti_join_not_a_re_join(registry, admin_user, make_plan_for_selection):
    plan = make_plan_for_selection
    result = IndividualService(admin_user).select_individuals_to_benefit_plan([CRITERION], str(plan.id), "POTENTIAL",
                                                                              admin_user)
    text = sql(result["individuals_not_assigned_to_selected_programme"])
    assert "DISTINCT" not in text and " IN (SELECT" not in text and text.count("NOT EXISTS") == 1
    assert "NOT (EXISTS" in text  # not enrolled in the plan


def test_the_approval_inserts_from_the_selection_itself(registry, admin_user, make_plan_for_selection):
    """``EnrollmentService._candidates`` filters a join-free registry selection as it is (no ``id IN`` re-join)."""
    from social_protection.services import EnrollmentService

    plan = make_plan_for_selection
    rows = EnrollmentService._candidates(individuals_without_group([CRITERION], admin_user), plan, False)
    assert " IN (SELECT" not in sql(rows) and "DISTINCT" not in sql(rows)
    assert list(rows) == [registry["free"]]
    # a selection with joins (rows that could repeat) is re-read by id instead
    joined = EnrollmentService._candidates(
        type(registry["free"]).objects.filter(groupindividual__role="HEAD"), plan, False)
    assert " IN (SELECT" in sql(joined) and list(joined) == [registry["member"]]


def test_a_stored_selection_round_trips(admin_user, make_plan_for_selection):
    selection = EnrolmentSelection(group=False, custom_filters=[CRITERION], benefit_plan_id=make_plan_for_selection.id,
                                   status="ACTIVE", user_id=admin_user.id).taken_now()
    again = EnrolmentSelection.from_json(selection.as_json())
    assert again.as_json() == selection.as_json() and again.snapshot == selection.snapshot
    assert EnrolmentSelection.from_json({"group": False}) is None and EnrolmentSelection.from_json(None) is None


def test_preview_counts_in_two_statements(gql, registry, admin_user, make_plan_for_selection):
    client = gql(admin_user)
    query = ('{ individualEnrollmentSummary(customFilters: ["%s"], benefitPlanId: "%s") { numberOfSelectedIndividuals '
             'totalNumberOfIndividuals numberOfIndividualsToUpload } }' % (CRITERION, make_plan_for_selection.id))
    client.data(query)
    with CaptureQueriesContext(connection) as queries:
        data = client.data(query)["individualEnrollmentSummary"]
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 2 and not any("DISTINCT" in q.upper() for q in counts)
    assert data == {"numberOfSelectedIndividuals": "1", "totalNumberOfIndividuals": "3",
                    "numberOfIndividualsToUpload": "1"}


@pytest.fixture
def make_plan_for_selection(admin_user):
    from tests.social_protection.factories import BenefitPlanFactory

    return BenefitPlanFactory(code="SEL", acting_user=admin_user)
