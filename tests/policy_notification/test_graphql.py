"""GraphQL of policy_notification over HTTP: ``familyNotification`` (group search right), ``updateFamilyNotification``
(group update right, the household visible to the caller), ``notificationIndication`` (131224), and the ``group``
query's ``additionalFilter`` communication modes 0-4 (spec §3, §13.3)."""
import json

import pytest

from core.test_helpers import assert_anonymous_refused, assert_log_error, assert_log_success, create_test_village
from policy_notification.models import FamilyNotification, IndicationStatus
from tests.individual.factories import GroupFactory
from tests.policy_notification.factories import FamilyNotificationFactory, NotificationIndicationFactory

pytestmark = pytest.mark.django_db

GROUP_SEARCH, GROUP_UPDATE, REPORT = 180001, 180003, 131224
BOTH = ["AD", "BD"]  # the districts of the two test villages
FAMILY_QUERY = """{ familyNotification%s { totalCount edges { node { approvalOfNotification languageOfNotification
    group { id code } } } } }"""
INDICATION_QUERY = """{ notificationIndication%s { totalCount edges { node { enrolmentId enrolmentType
    notificationType periodKey status provider attempts group { code } } } } }"""


def nodes(data, name):
    return [edge["node"] for edge in data[name]["edges"]]


@pytest.fixture
def villages(db):
    return create_test_village("A"), create_test_village("B")


@pytest.fixture
def households(admin_user, villages):
    """Three households: consenting in French with a phone (village A), declining without phone (A), and one in
    village B consenting without phone."""
    a, b = villages
    made = []
    for code, village, approval, language, phone in (("HH-A1", a, True, "fr", "0712345678"),
                                                     ("HH-A2", a, False, "en", None),
                                                     ("HH-B1", b, True, "en", None)):
        group = GroupFactory(acting_user=admin_user, code=code, location=village,
                             json_ext={"phone": phone} if phone else {})
        FamilyNotificationFactory(acting_user=admin_user, group=group, approval_of_notification=approval,
                                  language_of_notification=language)
        made.append(group)
    return made


# --- familyNotification -------------------------------------------------------------------------------------------
def test_family_notification_lists_and_filters_with_the_group_search_right(gql, make_user, households):
    client = gql(make_user("searcher", rights=[GROUP_SEARCH], districts=BOTH))
    data = client.data(FAMILY_QUERY % "(orderBy: [\"group__code\"])")
    assert [(n["group"]["code"], n["approvalOfNotification"], n["languageOfNotification"])
            for n in nodes(data, "familyNotification")] == [("HH-A1", True, "fr"), ("HH-A2", False, "en"),
                                                             ("HH-B1", True, "en")]
    data = client.data(FAMILY_QUERY % f'(group_Id: "{households[1].id}")')
    assert [n["group"]["code"] for n in nodes(data, "familyNotification")] == ["HH-A2"]
    data = client.data(FAMILY_QUERY % "(approvalOfNotification: true, languageOfNotification: \"en\")")
    assert [n["group"]["code"] for n in nodes(data, "familyNotification")] == ["HH-B1"]


def test_family_notification_is_refused_without_the_right_and_anonymously(gql, make_user, households):
    for user in (make_user("no-search", rights=[GROUP_UPDATE], districts=BOTH), None):
        content = gql(user).query(FAMILY_QUERY % "")
        assert content["data"]["familyNotification"] is None
        assert [e["message"] for e in content["errors"]] == ["Unauthorized"]


def test_family_notification_follows_the_households_row_security(gql, make_user, households):
    client = gql(make_user("district-a", rights=[GROUP_SEARCH], districts=["AD"]))
    data = client.data(FAMILY_QUERY % "")
    assert sorted(n["group"]["code"] for n in nodes(data, "familyNotification")) == ["HH-A1", "HH-A2"]
    assert data["familyNotification"]["totalCount"] == 2


# --- updateFamilyNotification -------------------------------------------------------------------------------------
def test_update_family_notification(gql, make_user, households):
    user = make_user("updater", rights=[GROUP_UPDATE], districts=BOTH)
    target = households[1]
    log = gql(user).mutate("updateFamilyNotification", {"groupId": str(target.id), "approvalOfNotification": True,
                                                        "languageOfNotification": "fr"})
    assert_log_success(log)
    row = FamilyNotification.objects.get(group=target)
    assert (row.approval_of_notification, row.language_of_notification, row.user_updated) == (True, "fr", user)
    assert row.history.filter(history_type="~").count() == 1


def test_update_family_notification_partial_keeps_the_other_field(gql, make_user, households):
    target = households[0]
    assert_log_success(gql(make_user("updater", rights=[GROUP_UPDATE], districts=BOTH)).mutate(
        "updateFamilyNotification", {"groupId": str(target.id), "approvalOfNotification": False}))
    row = FamilyNotification.objects.get(group=target)
    assert (row.approval_of_notification, row.language_of_notification) == (False, "fr")


@pytest.mark.parametrize("params, message", [
    ({"languageOfNotification": "uv"}, "unknown language 'uv'"),
    ({}, "Nothing to update"),
])
def test_update_family_notification_bad_input_is_a_clear_error_and_changes_nothing(
        gql, make_user, households, params, message):
    target = households[0]
    log = gql(make_user("updater", rights=[GROUP_UPDATE], districts=BOTH)).mutate(
        "updateFamilyNotification", {"groupId": str(target.id), **params})
    assert_log_error(log, message)
    assert FamilyNotification.objects.get(group=target).version == 1


def test_update_family_notification_of_an_unknown_household(gql, make_user, admin_user, households):
    params = {"groupId": "00000000-0000-0000-0000-000000000001", "approvalOfNotification": True}
    assert_log_error(gql(admin_user).mutate("updateFamilyNotification", params), "does not exist")
    # a district-restricted caller cannot tell an unknown household from one out of reach
    assert_log_error(gql(make_user("updater", rights=[GROUP_UPDATE], districts=BOTH)).mutate(
        "updateFamilyNotification", params), "unauthorized")
    assert not FamilyNotification.objects.filter(group_id=params["groupId"]).exists()


def test_update_family_notification_refusals(gql, make_user, households):
    target = households[2]  # village B
    params = {"groupId": str(target.id), "approvalOfNotification": False}
    assert_log_error(gql(make_user("searcher", rights=[GROUP_SEARCH], districts=BOTH)).mutate("updateFamilyNotification", params),
                     "unauthorized")
    assert_log_error(gql(make_user("district-a", rights=[GROUP_UPDATE], districts=["AD"])).mutate(
        "updateFamilyNotification", params), "unauthorized")
    assert_anonymous_refused(gql(None), "updateFamilyNotification", params)
    assert FamilyNotification.objects.get(group=target).approval_of_notification is True


# --- notificationIndication ---------------------------------------------------------------------------------------
def test_notification_indication_needs_its_right(gql, make_user, admin_user, households):
    indication = NotificationIndicationFactory(acting_user=admin_user, group=households[0])
    NotificationIndicationFactory(acting_user=admin_user, group=households[2], status=IndicationStatus.NO_CONSENT)
    data = gql(make_user("reporter", rights=[REPORT], districts=BOTH)).data(INDICATION_QUERY % "(status: 1)")
    [node] = nodes(data, "notificationIndication")
    assert node == {"enrolmentId": str(indication.enrolment_id),
                    "enrolmentType": "social_protection.groupbeneficiary", "notificationType": "activation_of_policy",
                    "periodKey": "2030-12-31", "status": 1, "provider": "TextNotificationProvider", "attempts": 1,
                    "group": {"code": "HH-A1"}}
    district_a = gql(make_user("reporter-a", rights=[REPORT], districts=["AD"])).data(INDICATION_QUERY % "")
    assert [n["group"]["code"] for n in nodes(district_a, "notificationIndication")] == ["HH-A1"]
    for user in (make_user("searcher", rights=[GROUP_SEARCH], districts=BOTH), None):
        content = gql(user).query(INDICATION_QUERY % "")
        assert content["data"]["notificationIndication"] is None
        assert [e["message"] for e in content["errors"]] == ["Unauthorized"]


# --- group(additionalFilter:) -------------------------------------------------------------------------------------
def group_codes(client, additional_filter):
    text = '{ group(additionalFilter: %s, orderBy: ["code"]) { edges { node { code } } } }' % json.dumps(
        json.dumps(additional_filter))
    return [n["code"] for n in nodes(client.data(text), "group")]


@pytest.mark.parametrize("mode, expected", [
    (0, ["HH-A1", "HH-A2", "HH-B1", "HH-C1"]),
    (1, ["HH-A1"]),
    (2, ["HH-B1"]),
    (3, ["HH-C1"]),
    (4, ["HH-A2"]),
])
def test_group_query_filters_by_communication_mode(gql, admin_user, households, mode, expected):
    """Consent = the household row approved; phone = the group's or a member's (HH-C1: a member's, no consent)."""
    from tests.individual.factories import GroupIndividualFactory, IndividualFactory

    other = GroupFactory(acting_user=admin_user, code="HH-C1")
    GroupIndividualFactory(acting_user=admin_user, group=other, role="SON",
                           individual=IndividualFactory(acting_user=admin_user, json_ext={"phone": "0755000111"}))
    FamilyNotificationFactory(acting_user=admin_user, group=other, approval_of_notification=False)
    client = gql(admin_user)
    assert group_codes(client, {"policyNotification": {"mode": {"value": mode}}}) == expected
    assert group_codes(client, {"policyNotification": {"mode": mode}}) == expected


def test_group_query_without_or_with_other_additional_filters_is_unfiltered(gql, admin_user, households):
    client = gql(admin_user)
    assert group_codes(client, {}) == ["HH-A1", "HH-A2", "HH-B1"]
    assert group_codes(client, {"somethingElse": 1}) == ["HH-A1", "HH-A2", "HH-B1"]


@pytest.mark.parametrize("additional_filter, message", [
    ({"policyNotification": {"mode": {"value": 7}}}, "mode must be one of 0, 1, 2, 3, 4"),
    ({"policyNotification": {"mode": "x"}}, "mode must be one of 0, 1, 2, 3, 4"),
    ({"policyNotification": {}}, "needs a mode"),
    ([1, 2], "additionalFilter must be a JSON object"),
])
def test_group_query_bad_mode_is_a_clear_error(gql, admin_user, households, additional_filter, message):
    text = '{ group(additionalFilter: %s) { edges { node { code } } } }' % json.dumps(json.dumps(additional_filter))
    content = gql(admin_user).query(text)
    assert content["data"]["group"] is None
    assert message in content["errors"][0]["message"]
