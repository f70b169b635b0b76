"""Membership alignment (spec §6.2) and group json_ext synchronisation (§6.3).

The same pure function (`group_json_ext`) serves the per-row path (a membership save) and the bulk path
(fake_individuals computes the json_ext of thousands of groups in Python before one bulk insert).
"""


MEMBER_KEYS = ("members", "head", "head_id", "primary_recipient", "primary_recipient_id",
               "secondary_recipient", "secondary_recipient_id")


def _full_name(individual):
    return f"{individual.first_name} {individual.last_name}"


def group_json_ext(current, memberships):
    """New group json_ext from ``memberships`` [(individual, role, recipient_type)] of non-deleted rows.

    Member keys are recomputed; every other key mirrors the head's json_ext (keys missing there go).
    """
    members, head, primary, secondary = {}, None, None, None
    for individual, role, recipient_type in memberships:
        members[str(individual.id)] = _full_name(individual)
        if role == "HEAD":
            head = individual
        if recipient_type == "PRIMARY":
            primary = individual
        elif recipient_type == "SECONDARY":
            secondary = individual
    result = {
        "members": members,
        "head": _full_name(head) if head else None,
        "head_id": str(head.id) if head else None,
        "primary_recipient": _full_name(primary) if primary else None,
        "primary_recipient_id": str(primary.id) if primary else None,
        "secondary_recipient": _full_name(secondary) if secondary else None,
        "secondary_recipient_id": str(secondary.id) if secondary else None,
    }
    head_ext = (head.json_ext or {}) if head else {}
    for key, value in head_ext.items():
        if key not in MEMBER_KEYS:
            result[key] = value
    return result


def sync_group_json_ext(group, user):
    """Recompute and save the group's json_ext from its non-deleted memberships (only when changed)."""
    from individual.models import Group, GroupIndividual

    rows = (GroupIndividual.objects.filter(group_id=group.id, is_deleted=False)
            .select_related("individual").order_by("date_created", "id"))
    new_ext = group_json_ext(group.json_ext or {}, [(r.individual, r.role, r.recipient_type) for r in rows])
    fresh = Group.objects.get(id=group.id)
    if (fresh.json_ext or {}) != new_ext:
        fresh.json_ext = new_ext
        fresh.save(user=user)
    return fresh


def align_group_after_membership_change(membership, user):
    """One HEAD, one PRIMARY, first member defaults, then the group json_ext (spec §6.2)."""
    from individual.models import GroupIndividual

    others = GroupIndividual.objects.filter(group_id=membership.group_id, is_deleted=False).exclude(id=membership.id)
    if not membership.is_deleted:
        if membership.role == GroupIndividual.Role.HEAD:
            for other in others.filter(role=GroupIndividual.Role.HEAD):
                other.role = None
                other.save(user=user, align=False)
        if membership.recipient_type == GroupIndividual.RecipientType.PRIMARY:
            for other in others.filter(recipient_type=GroupIndividual.RecipientType.PRIMARY):
                other.recipient_type = None
                other.save(user=user, align=False)
    if membership.is_deleted or membership.recipient_type != GroupIndividual.RecipientType.PRIMARY:
        active = GroupIndividual.objects.filter(group_id=membership.group_id, is_deleted=False)
        if not active.filter(recipient_type=GroupIndividual.RecipientType.PRIMARY).exists():
            first = active.order_by("date_created", "id").first()
            if first is not None:
                first.recipient_type = GroupIndividual.RecipientType.PRIMARY
                if not active.filter(role=GroupIndividual.Role.HEAD).exists():
                    first.role = GroupIndividual.Role.HEAD
                first.save(user=user, align=False)
    sync_group_json_ext(membership.group, user)


