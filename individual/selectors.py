"""Read-only queries of the individual registry that other modules may use (they answer querysets, never write).

A sibling module reads individuals, groups, memberships and upload data sources through these functions, not
through ``individual.models``: the registry's tables stay this module's business.
"""
from django.db.models import Prefetch

from core.custom_filters import custom_filter_q
from individual.models import Group, GroupIndividual, Individual, IndividualDataSource

HEAD = GroupIndividual.Role.HEAD


def individuals():
    return Individual.objects.all()


def groups():
    return Group.objects.all()


def memberships():
    return GroupIndividual.objects.all()


def live_memberships():
    return GroupIndividual.objects.filter(is_deleted=False)


def head_memberships():
    """Non-deleted HEAD memberships of non-deleted individuals (one per group, by the alignment rules)."""
    return GroupIndividual.objects.filter(role=HEAD, is_deleted=False, individual__is_deleted=False)


def individuals_without_group(custom_filters=None):
    """Enrolment candidates: non-deleted individuals with no membership row, custom-filtered."""
    queryset = Individual.objects.filter(is_deleted=False, groupindividual__isnull=True)
    if custom_filters:
        queryset = queryset.filter(custom_filter_q(custom_filters))
    return queryset.distinct()


def groups_selectable(custom_filters=None):
    queryset = Group.objects.filter(is_deleted=False)
    if custom_filters:
        queryset = queryset.filter(custom_filter_q(custom_filters))
    return queryset.distinct()


def upload_individual_ids(upload_id):
    """``individual_id`` of the live data sources of an upload that are linked to an individual (subquery)."""
    return IndividualDataSource.objects.filter(upload_id=upload_id, is_deleted=False,
                                               individual__isnull=False).values("individual_id")


def members_prefetch(prefix=""):
    """Non-deleted memberships (with their individual) of the groups reached by ``prefix`` (e.g. ``"group__"``),
    in one query for a whole page, as ``group.active_members`` (what the group type's ``head``/``members`` read)."""
    return Prefetch(f"{prefix}groupindividual_set",
                    queryset=live_memberships().select_related("individual").order_by("date_created", "id"),
                    to_attr="active_members")
