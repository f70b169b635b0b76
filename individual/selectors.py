"""Read-only queries of the individual registry that other modules may use (they answer querysets, never write).

A sibling module reads individuals, groups, memberships and upload data sources through these functions, not
through ``individual.models``: the registry's tables stay this module's business.
"""
from django.db.models import Exists, OuterRef, Prefetch

from core.custom_filters import custom_filter_q, refuse_masked_filters
from individual.models import Group, GroupIndividual, Individual, IndividualDataSource

HEAD = GroupIndividual.Role.HEAD
# the masking policy of the registry's JSON (individuals, groups — a copy of their head's — and memberships)
MASKING_POLICY = "individual"


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


def registry_filtered(queryset, custom_filters, user, relation=None):
    """``queryset`` custom-filtered on the registry's ``json_ext`` (of ``relation`` when given) for ``user``: a
    filter on an attribute masked for them is refused (business ``ValidationError``)."""
    if not custom_filters:
        return queryset
    refuse_masked_filters(custom_filters, user, MASKING_POLICY)
    return queryset.filter(custom_filter_q(custom_filters, relation=relation))


def _for_user(model, queryset, custom_filters, user):
    """A selection as ``user`` may make it: within their row security, no filter on what is masked for them.
    ``user=None`` is the system (demo data, maintenance)."""
    if user is not None:
        queryset = model.get_queryset(queryset, user)
        return registry_filtered(queryset, custom_filters, user)
    return queryset.filter(custom_filter_q(custom_filters)) if custom_filters else queryset


def has_membership():
    """True for an individual (the outer row) with any membership row, deleted ones included (a semi-join)."""
    return Exists(GroupIndividual.objects.filter(individual_id=OuterRef("pk")))


def individuals_without_group(custom_filters=None, user=None):
    """Enrolment candidates: non-deleted individuals with no membership row, custom-filtered, those ``user`` may
    see (row security). One pass over the registry: an anti-join (NOT EXISTS), so no DISTINCT is needed."""
    queryset = Individual.objects.filter(~has_membership(), is_deleted=False)
    return _for_user(Individual, queryset, custom_filters, user)


def groups_selectable(custom_filters=None, user=None):
    """Non-deleted groups, custom-filtered, those ``user`` may see (row security); no join, so no DISTINCT."""
    queryset = Group.objects.filter(is_deleted=False)
    return _for_user(Group, queryset, custom_filters, user)


def has_head():
    """True for a group (the outer row) with a live HEAD member (a semi-join)."""
    return Exists(head_memberships().filter(group_id=OuterRef("pk")))


def heads_of(groups_queryset):
    """The HEAD individuals of the groups of ``groups_queryset`` (a semi-join, one row per group)."""
    return Individual.objects.filter(Exists(head_memberships().filter(
        individual_id=OuterRef("pk"), group_id__in=groups_queryset.order_by().values("pk"))))


def _visible_ids(model, user):
    rows = model.get_queryset(model.objects.all(), user)
    return None if not rows.query.where.children else rows.values("id")


def visible_individual_ids(user):
    """Ids (a subquery) of the individuals ``user``'s row security lets them see; None when it hides none."""
    return _visible_ids(Individual, user)


def visible_group_ids(user):
    """Ids (a subquery) of the groups ``user``'s row security lets them see; None when it hides none."""
    return _visible_ids(Group, user)


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
