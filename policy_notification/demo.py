"""Demo contribution: every demo household gets its notification row; three consent (one in French) and their heads
get a phone number; the six message types are switched on (upstream ships them off), so that
``manage.py send_notification_messages`` writes their messages through the text provider
(``MEDIA_ROOT/sent_notification``) once."""
DEMO_PHONES = ["+255754000101", "+255754000102", "+255754000103"]


def _enable_message_types(ctx):
    from core.module_config import store_config, stored_config
    from policy_notification.apps import NOTIFICATION_TYPES

    if "eligibleNotificationTypes" in stored_config("policy_notification")[1]:
        return
    store_config("policy_notification", {"eligibleNotificationTypes": {name: True for name in NOTIFICATION_TYPES}})
    ctx.log("policy_notification: the six message types switched on (ModuleConfiguration)")


def contribute(ctx):
    from core import bulk
    from individual.selectors import groups, head_memberships
    from policy_notification.models import FamilyNotification
    from policy_notification.services import ensure_family_notifications, update_family_notification_policy

    _enable_message_types(ctx)
    ensure_family_notifications(user=ctx.admin)
    if FamilyNotification.objects.filter(approval_of_notification=True, is_deleted=False).exists():
        ctx.log("policy_notification: demo consents already present")
        return
    households = list(groups().filter(is_deleted=False).order_by("code")[:len(DEMO_PHONES)])
    heads = dict(head_memberships().filter(group__in=households).values_list("group_id", "individual"))
    changes = []
    for index, (group, phone) in enumerate(zip(households, DEMO_PHONES)):
        update_family_notification_policy(str(group.id), {"approvalOfNotification": True,
                                                          "languageOfNotification": "fr" if index == 0 else "en"},
                                          user=ctx.admin)
        if group.id in heads:
            changes.append({"id": heads[group.id], "phone": phone})
    if changes:
        from individual.selectors import individuals

        current = dict(individuals().filter(id__in=[c["id"] for c in changes]).values_list("id", "json_ext"))
        bulk.update_rows(individuals().model, ({"id": c["id"], "json_ext": {**(current[c["id"]] or {}),
                                                                          "phone": c["phone"]}} for c in changes),
                         fields=["json_ext"], user=ctx.admin)
    ctx.log(f"policy_notification: {len(households)} households consent to SMS (one in French), their heads have "
            "phone numbers")
