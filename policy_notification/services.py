"""Household notification preferences (spec §4, §13.3): create, update, delete, and the rows every household has.

The module-level functions keep upstream's names and payloads (camelCase keys ``approvalOfNotification``,
``languageOfNotification``); they raise business errors (``ValidationError``, ``ObjectDoesNotExist``) and take
the acting user as a keyword. :class:`FamilyNotificationService` is their boundary for GraphQL (result dicts).
"""
import logging

from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Value

from core import bulk
from core.models import Language
from core.services import BaseService, model_representation, output_result_success, service_operation
from individual.selectors import groups
from policy_notification.apps import PolicyNotificationConfig
from policy_notification.models import FamilyNotification, default_language_code

logger = logging.getLogger(__name__)

APPROVAL, LANGUAGE = "approvalOfNotification", "languageOfNotification"


# --- payloads ----------------------------------------------------------------------------------------------
def default_payload():
    return {APPROVAL: False, LANGUAGE: default_language_code()}


def validate_payload(data, *, partial=False):
    """The payload as model fields (``{"approval_of_notification": …, "language_of_notification": …}``); only the
    keys present (not ``None``) with ``partial``, both (defaults filled in) otherwise. Consent must be a real
    bool, the language a code of the core ``Language`` table."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationError("policy_notification must be an object with approvalOfNotification and "
                              "languageOfNotification")
    fields = {}
    approval = data.get(APPROVAL)
    if approval is not None:
        if not isinstance(approval, bool):
            raise ValidationError(f"{APPROVAL} must be true or false")
        fields["approval_of_notification"] = approval
    language = data.get(LANGUAGE)
    if language is not None:
        if not isinstance(language, str) or not Language.objects.filter(code=language).exists():
            raise ValidationError(f"{LANGUAGE}: unknown language {language!r}")
        fields["language_of_notification"] = language
    if not partial:
        fields.setdefault("approval_of_notification", False)
        fields.setdefault("language_of_notification", default_language_code())
    return fields


def _group(group_uuid):
    group = groups().filter(id=group_uuid).first() if _is_uuid(group_uuid) else None
    if group is None:
        raise ObjectDoesNotExist(f"Group {group_uuid} does not exist")
    return group


def _is_uuid(value):
    import uuid

    try:
        uuid.UUID(str(value))
        return True
    except (TypeError, ValueError, AttributeError):
        return False


def _save(row, fields, user):
    changed = False
    for name, value in fields.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed or row._state.adding:
        row.save(user=user)
    return row


# --- the services of spec §4 --------------------------------------------------------------------------------
@transaction.atomic
def create_family_notification_policy(group_uuid, data=None, *, user):
    """The household's notification row from ``data`` (``None``: no consent, default language). An unknown
    household is a does-not-exist error; a live row already there is a ``ValidationError``."""
    fields = validate_payload(data)
    group = _group(group_uuid)
    row = FamilyNotification.objects.select_for_update().filter(group=group).first()
    if row is not None and not row.is_deleted:
        raise ValidationError(f"Group {group.id} already has a notification policy")
    if row is None:
        row = FamilyNotification(group=group)
    else:  # a row soft-deleted with its household: revived for the household again
        fields["is_deleted"] = False
    return _save(row, fields, user)


@transaction.atomic
def update_family_notification_policy(group_uuid, data, *, user):
    """Apply the consent and/or language present in ``data``; empty ``data`` → ``None``. A household without
    a live row gets a default one first (warning)."""
    if not data:
        logger.warning("update_family_notification_policy for %s without data: nothing to do", group_uuid)
        return None
    fields = validate_payload(data, partial=True)
    group = _group(group_uuid)
    row = FamilyNotification.objects.select_for_update().filter(group=group).first()
    if row is None or row.is_deleted:
        logger.warning("Group %s had no notification policy: a default one is created", group.id)
        row = create_family_notification_policy(group.id, None, user=user) if row is None else _save(
            row, {**validate_payload(None), "is_deleted": False}, user)
    return _save(row, fields, user)


@transaction.atomic
def delete_family_notification_policy(group_uuids, *, user):
    """Per household row: household still live → reset to defaults (row kept); household deleted → the row is
    soft-deleted. Returns the rows touched."""
    touched = []
    rows = FamilyNotification.objects.select_for_update().filter(
        group_id__in=[g for g in group_uuids or [] if _is_uuid(g)], is_deleted=False).select_related("group")
    for row in rows:
        if row.group.is_deleted:
            row.delete(user=user)
        else:
            _save(row, validate_payload(None), user)
        touched.append(row)
    return touched


# --- every household has its row ------------------------------------------------------------------------------
def ensure_family_notifications(*, user):
    """A default row for every household that has none (households written in bulk by imports bypass the
    group service hooks): one ``INSERT … SELECT``, conflict-safe. Answers the number of rows written."""
    missing = groups().filter(~Exists(FamilyNotification.objects.filter(group_id=OuterRef("pk"))))
    return bulk.insert_from_select(FamilyNotification, missing, {
        "group": F("pk"),
        "approval_of_notification": bulk.constant(False, FamilyNotification, "approval_of_notification"),
        "language_of_notification": Value(default_language_code()),
        "is_deleted": F("is_deleted"),  # a deleted household's row is born deleted
    }, user=user, ignore_conflicts=True)


# --- the acting user of scheduled runs --------------------------------------------------------------------------
def notification_user():
    """Who the scheduled run writes as: config ``run_as_username``, else core's default acting user."""
    from core.services import default_acting_user

    username = PolicyNotificationConfig.run_as_username
    user = default_acting_user(username or None)
    if user is None:
        raise ImproperlyConfigured(
            "policy_notification: no acting user for scheduled notifications; set run_as_username in the "
            f"module configuration to an active user (now {username!r}) or create a superuser")
    return user


# --- GraphQL boundary -----------------------------------------------------------------------------------------
class FamilyNotificationService(BaseService):
    OBJECT_TYPE = FamilyNotification

    @service_operation("update")
    def update(self, obj_data):
        group_id = obj_data.get("group_id")
        data = {key: obj_data.get(key) for key in (APPROVAL, LANGUAGE) if obj_data.get(key) is not None}
        if not data:
            raise ValidationError(f"Nothing to update: give {APPROVAL} and/or {LANGUAGE}")
        row = update_family_notification_policy(group_id, data, user=self.user)
        return output_result_success(model_representation(row))


__all__ = ["create_family_notification_policy", "update_family_notification_policy",
           "delete_family_notification_policy", "ensure_family_notifications", "validate_payload",
           "notification_user", "FamilyNotificationService"]
