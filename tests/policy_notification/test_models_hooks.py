"""Household notification rows: the services of spec §4 (upstream's behaviours, §11), the group service hooks
(§13.3), the data migration for existing households, the bulk backfill and the rights migration."""
import importlib

import pytest
from django.apps import apps as global_apps
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError

from core import bulk
from core.models import Role, RoleRight
from individual.models import Group
from individual.services import GroupService
from policy_notification.models import FamilyNotification, NotificationIndication, default_language_code
from policy_notification.services import (
    create_family_notification_policy,
    delete_family_notification_policy,
    ensure_family_notifications,
    update_family_notification_policy,
)
from tests.individual.factories import GroupFactory
from tests.policy_notification.factories import FamilyNotificationFactory, NotificationIndicationFactory

pytestmark = pytest.mark.django_db


def row_of(group):
    return FamilyNotification.objects.get(group=group)


# --- services (spec §11 "Services") -----------------------------------------------------------------------------
@pytest.mark.parametrize("approval, language", [(True, "en"), (False, "fr")])
def test_create_stores_consent_and_language(admin_user, approval, language):
    group = GroupFactory(acting_user=admin_user)
    row = create_family_notification_policy(
        group.id, {"approvalOfNotification": approval, "languageOfNotification": language}, user=admin_user)
    stored = row_of(group)
    assert (stored.id, stored.approval_of_notification, stored.language_of_notification) == (row.id, approval,
                                                                                            language)
    assert stored.user_created == admin_user and stored.history.filter(history_type="+").count() == 1


def test_create_without_data_is_no_consent_in_the_first_language(admin_user):
    group = GroupFactory(acting_user=admin_user)
    create_family_notification_policy(group.id, None, user=admin_user)
    stored = row_of(group)
    assert (stored.approval_of_notification, stored.language_of_notification) == (False, "en")
    assert default_language_code() == "en"  # seeded English first, then French


def test_create_twice_is_refused(admin_user):
    group = GroupFactory(acting_user=admin_user)
    create_family_notification_policy(group.id, None, user=admin_user)
    with pytest.raises(ValidationError, match="already has a notification policy"):
        create_family_notification_policy(group.id, {"approvalOfNotification": True}, user=admin_user)
    assert row_of(group).approval_of_notification is False


def test_update_applies_both_fields(admin_user):
    group = GroupFactory(acting_user=admin_user)
    create_family_notification_policy(group.id, None, user=admin_user)
    update_family_notification_policy(group.id, {"approvalOfNotification": True, "languageOfNotification": "fr"},
                                      user=admin_user)
    stored = row_of(group)
    assert (stored.approval_of_notification, stored.language_of_notification, stored.version) == (True, "fr", 2)


def test_update_with_empty_data_changes_nothing(admin_user):
    group = GroupFactory(acting_user=admin_user)
    create_family_notification_policy(group.id, None, user=admin_user)
    assert update_family_notification_policy(group.id, {}, user=admin_user) is None
    assert row_of(group).version == 1


def test_update_of_a_household_without_row_creates_it_first(admin_user):
    group = GroupFactory(acting_user=admin_user)
    update_family_notification_policy(group.id, {"approvalOfNotification": True}, user=admin_user)
    stored = row_of(group)
    assert (stored.approval_of_notification, stored.language_of_notification) == (True, "en")


@pytest.mark.parametrize("call", [
    lambda uid, user: create_family_notification_policy(uid, None, user=user),
    lambda uid, user: update_family_notification_policy(uid, {"approvalOfNotification": True}, user=user),
])
def test_unknown_household_is_a_not_found_error(admin_user, call):
    with pytest.raises(ObjectDoesNotExist, match="does not exist"):
        call("00000000-0000-0000-0000-000000000001", admin_user)
    assert not FamilyNotification.objects.exists()


@pytest.mark.parametrize("payload, message", [
    ({"languageOfNotification": "uv"}, "unknown language 'uv'"),
    ({"approvalOfNotification": "yes"}, "must be true or false"),
    ({"approvalOfNotification": 1}, "must be true or false"),
])
def test_bad_payload_is_a_validation_error_and_nothing_is_written(admin_user, payload, message):
    group = GroupFactory(acting_user=admin_user)
    with pytest.raises(ValidationError, match=message):
        create_family_notification_policy(group.id, payload, user=admin_user)
    assert not FamilyNotification.objects.filter(group=group).exists()
    create_family_notification_policy(group.id, None, user=admin_user)
    with pytest.raises(ValidationError, match=message):
        update_family_notification_policy(group.id, payload, user=admin_user)
    assert row_of(group).version == 1


def test_delete_of_a_live_household_resets_its_row(admin_user):
    group = GroupFactory(acting_user=admin_user)
    FamilyNotificationFactory(acting_user=admin_user, group=group, approval_of_notification=True,
                              language_of_notification="fr")
    [touched] = delete_family_notification_policy([group.id], user=admin_user)
    stored = row_of(group)
    assert touched.id == stored.id
    assert (stored.approval_of_notification, stored.language_of_notification, stored.is_deleted) == (False, "en",
                                                                                                      False)


def test_delete_of_a_deleted_household_deletes_its_row(admin_user):
    group = GroupFactory(acting_user=admin_user)
    FamilyNotificationFactory(acting_user=admin_user, group=group)
    group.delete(user=admin_user)
    [touched] = delete_family_notification_policy([group.id], user=admin_user)
    assert row_of(group).is_deleted is True and touched.is_deleted is True


# --- group service hooks (§13.3) ----------------------------------------------------------------------------------
def test_group_created_through_the_service_gets_a_default_row(admin_user):
    result = GroupService(admin_user).create({"code": "HH-1"})
    assert result["success"], result
    stored = FamilyNotification.objects.get(group_id=result["data"]["id"])
    assert (stored.approval_of_notification, stored.language_of_notification) == (False, "en")


@pytest.mark.parametrize("where", ["top", "json_ext"])
def test_group_created_with_a_payload_stores_it(admin_user, where):
    payload = {"approvalOfNotification": True, "languageOfNotification": "fr"}
    data = {"code": "HH-2", "policy_notification": payload} if where == "top" else {
        "code": "HH-2", "json_ext": {"policy_notification": payload}}
    result = GroupService(admin_user).create(data)
    assert result["success"], result
    stored = FamilyNotification.objects.get(group_id=result["data"]["id"])
    assert (stored.approval_of_notification, stored.language_of_notification) == (True, "fr")


def test_group_created_with_a_bad_payload_is_refused_and_nothing_is_written(admin_user):
    result = GroupService(admin_user).create({"code": "HH-3", "policy_notification": {"languageOfNotification": "uv"}})
    assert result["success"] is False and "unknown language 'uv'" in result["detail"]
    assert not Group.objects.filter(code="HH-3").exists()
    assert not FamilyNotification.objects.exists()


def test_group_update_applies_a_payload_and_leaves_the_row_alone_without_one(admin_user):
    group_id = GroupService(admin_user).create({"code": "HH-4"})["data"]["id"]
    result = GroupService(admin_user).update({"id": group_id, "code": "HH-4b"})
    assert result["success"], result
    assert FamilyNotification.objects.get(group_id=group_id).version == 1
    result = GroupService(admin_user).update({"id": group_id, "code": "HH-4c",
                                              "policy_notification": {"approvalOfNotification": True}})
    assert result["success"], result
    stored = FamilyNotification.objects.get(group_id=group_id)
    assert (stored.approval_of_notification, stored.language_of_notification, stored.version) == (True, "en", 2)
    assert Group.objects.get(id=group_id).code == "HH-4c"


def test_group_deleted_through_the_service_deletes_its_row(admin_user):
    group_id = GroupService(admin_user).create({"code": "HH-5"})["data"]["id"]
    assert GroupService(admin_user).delete({"id": group_id})["success"]
    assert FamilyNotification.objects.get(group_id=group_id).is_deleted is True


# --- every household has its row ----------------------------------------------------------------------------------
def test_households_written_in_bulk_get_their_rows_once(admin_user):
    bulk.insert_rows(Group, [{"code": f"BULK-{i}", "json_ext": {}} for i in range(3)], user=admin_user)
    deleted = GroupFactory(acting_user=admin_user)
    deleted.delete(user=admin_user)
    assert ensure_family_notifications(user=admin_user) == 4
    assert ensure_family_notifications(user=admin_user) == 0
    rows = FamilyNotification.objects.filter(group__code__startswith="BULK-")
    assert [(r.approval_of_notification, r.language_of_notification, r.is_deleted) for r in rows] == [
        (False, "en", False)] * 3
    assert row_of(deleted).is_deleted is True
    assert FamilyNotification.history.filter(history_type="+").count() == 4


def test_data_migration_gives_every_existing_household_a_row(admin_user):
    migration = importlib.import_module("policy_notification.migrations.0002_family_notification_for_existing_groups")
    existing = FamilyNotificationFactory(acting_user=admin_user, approval_of_notification=True)
    groups = [GroupFactory(acting_user=admin_user) for _ in range(3)]
    migration.forward(global_apps, None)
    for group in groups:
        stored = row_of(group)
        assert (stored.approval_of_notification, stored.language_of_notification) == (False, "en")
        assert stored.history.filter(history_type="+").count() == 1
    assert row_of(existing.group).approval_of_notification is True  # untouched
    migration.forward(global_apps, None)  # idempotent
    assert FamilyNotification.objects.count() == 4


def test_rights_migration_grants_the_report_right_to_the_imis_administrator(db):
    admin_role = Role.objects.get(is_system=64, validity_to__isnull=True)
    assert RoleRight.objects.filter(role=admin_role, right_id=131224, validity_to__isnull=True).exists()


# --- indications -----------------------------------------------------------------------------------------------
def test_an_indication_is_unique_per_enrolment_type_and_period(admin_user):
    first = NotificationIndicationFactory(acting_user=admin_user)
    NotificationIndicationFactory(acting_user=admin_user, enrolment_id=first.enrolment_id,
                                  period_key=first.period_key.replace(year=2031))  # a renewed period
    with pytest.raises(ValidationError, match="already exists"):
        NotificationIndicationFactory(acting_user=admin_user, enrolment_id=first.enrolment_id,
                                      period_key=first.period_key)
    row = {"enrolment_type_id": first.enrolment_type_id, "enrolment_id": first.enrolment_id,
           "notification_type": first.notification_type, "period_key": first.period_key, "status": 2}
    with pytest.raises(IntegrityError):  # the database constraint itself (bulk writes skip model validation)
        bulk.insert_rows(NotificationIndication, [row], user=admin_user)
    assert bulk.insert_rows(NotificationIndication, [row], user=admin_user, ignore_conflicts=True) == 0
    assert NotificationIndication.objects.filter(enrolment_id=first.enrolment_id).count() == 2
