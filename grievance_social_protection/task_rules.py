"""Grievance tickets and comments as reports, and the follow-up rule (spec §9.2, task_rules.md §17).

Subjects: a ticket reported by an individual belongs to that individual, one reported by a beneficiary to
the beneficiary's individual; a ticket reported by a user (or nobody) is *headless*: its bundle is the ticket
itself (with its comments), and so is its task's entity.
"""
import datetime

from django.db.models import Q

from grievance_social_protection.links import link_type
from grievance_social_protection.models import Comment, Ticket, TicketStatus
from grievance_social_protection.services import resolution_time_for
from tasks_management.services import (
    ReportSource,
    chunk_memo,
    rule_rows as rows,
    TaskAction,
    TaskEvent,
    TaskRule,
    register_report_source,
    register_rule,
)

TICKET_LABEL = "grievance_social_protection.ticket"
# what the source and the rule read: tickets load as light rows of these columns
TICKET_COLUMNS = ("id", "reporter_type_id", "reporter_id", "status", "category", "priority", "flags", "channel",
                  "resolution", "due_date", "attending_staff_id", "code", "title", "date_created", "json_ext",
                  "is_deleted")
INDIVIDUAL_LABEL = "individual.individual"


def _type_ids():
    """``(individual content type id, beneficiary content type id)`` (None when the app is not installed)."""
    individual, beneficiary = link_type("individual"), link_type("beneficiary")
    return (individual.content_type().id if individual else None,
            beneficiary.content_type().id if beneficiary else None)


def _beneficiary_individuals(individual_ids):
    """``{beneficiary id string: individual id string}`` of the beneficiaries of these individuals (read once
    per chunk for tickets and comments)."""
    beneficiary = link_type("beneficiary")
    if beneficiary is None or not individual_ids:
        return {}
    memo = chunk_memo()
    key = ("grievance.beneficiaries", tuple(individual_ids))
    if key not in memo:
        rows = beneficiary.model.objects.filter(individual_id__in_array=individual_ids).values_list(
            "id", "individual_id")
        memo[key] = {str(b): str(i) for b, i in rows}
    return memo[key]


def _reported_by(prefix, individual_ids, by_beneficiary):
    """Rows reported by these individuals or their beneficiaries: one IN list on the indexed ``reporter_id``
    (ids are UUIDs, unique across the two types; ``__in_array``: the list as one parameter, registered by the
    rules engine); the type is checked again by ``_subject_id``."""
    types = [ct for ct in _type_ids() if ct is not None]
    return Q(**{f"{prefix}reporter_type_id__in": types,
                f"{prefix}reporter_id__in_array": [*individual_ids, *by_beneficiary]})


def _subject_id(ticket, by_beneficiary):
    individual_ct, beneficiary_ct = _type_ids()
    if ticket.reporter_type_id == individual_ct and individual_ct is not None:
        return ticket.reporter_id
    if ticket.reporter_type_id == beneficiary_ct and beneficiary_ct is not None:
        return by_beneficiary.get(str(ticket.reporter_id))
    return None


def _headless_q(prefix=""):
    individual_ct, beneficiary_ct = _type_ids()
    known = [ct for ct in (individual_ct, beneficiary_ct) if ct is not None]
    return Q(**{f"{prefix}reporter_type__isnull": True}) | ~Q(**{f"{prefix}reporter_type_id__in": known})


def fetch_tickets(contact_type, ids):
    if contact_type != "individual":
        return []
    by_beneficiary = _beneficiary_individuals(ids)
    tickets = rows(Ticket.objects.filter(_reported_by("", ids, by_beneficiary)), TICKET_COLUMNS)
    return [(subject, t) for t in tickets if (subject := _subject_id(t, by_beneficiary)) is not None]


def fetch_comments(contact_type, ids):
    if contact_type != "individual":
        return []
    by_beneficiary = _beneficiary_individuals(ids)
    comments = Comment.objects.filter(_reported_by("ticket__", ids, by_beneficiary)).select_related("ticket")
    return [(subject, c) for c in comments if (subject := _subject_id(c.ticket, by_beneficiary)) is not None]


def ticket_subjects(ticket):
    individual_ct, beneficiary_ct = _type_ids()
    if ticket.reporter_type_id == individual_ct and individual_ct is not None and ticket.reporter_id:
        return [(INDIVIDUAL_LABEL, ticket.reporter_id)]
    if ticket.reporter_type_id == beneficiary_ct and beneficiary_ct is not None and ticket.reporter_id:
        individual_id = link_type("beneficiary").model.objects.filter(id=ticket.reporter_id).values_list(
            "individual_id", flat=True).first()
        return [(INDIVIDUAL_LABEL, individual_id)] if individual_id else []
    return [(TICKET_LABEL, str(ticket.pk))]


def ticket_fields(ticket):
    return {
        "status": ticket.status, "category": ticket.category, "priority": ticket.priority, "flags": ticket.flags,
        "channel": ticket.channel, "resolution": ticket.resolution,
        "due_date": ticket.due_date.isoformat() if ticket.due_date else None,
        "attending_staff_id": str(ticket.attending_staff_id) if ticket.attending_staff_id else None,
        "code": ticket.code, "title": ticket.title,
    }


register_report_source(ReportSource(
    name="grievance_ticket", model="grievance_social_protection.Ticket", form="grievance_ticket",
    fields=ticket_fields, fetch=fetch_tickets, subjects=ticket_subjects,
    headless_model="grievance_social_protection.Ticket",
    fetch_headless=lambda ids: [(str(t.pk), t) for t in rows(Ticket.objects.filter(_headless_q(), id__in_array=ids),
                                                             TICKET_COLUMNS)],
    headless_candidates=lambda: Ticket.objects.filter(_headless_q(), is_deleted=False).values_list("id", flat=True),
))
register_report_source(ReportSource(
    name="grievance_comment", model="grievance_social_protection.Comment",
    form=lambda c: "grievance_resolution" if c.is_resolution else "grievance_comment",
    fields=lambda c: {"ticket_id": str(c.ticket_id), "is_resolution": c.is_resolution},
    fetch=fetch_comments, subjects=lambda c: ticket_subjects(c.ticket),
    headless_model="grievance_social_protection.Ticket",
    fetch_headless=lambda ids: [(str(c.ticket_id), c) for c in Comment.objects.filter(
        _headless_q("ticket__"), ticket_id__in_array=ids).select_related("ticket")],
))


# --- the follow-up rule (spec §9.2) -----------------------------------------------------------------------------
def ticket_start(ticket):
    """The later of the ticket's creation and its last reopening."""
    start = ticket.date_created
    reopened = (ticket.json_ext or {}).get("reopened_at")
    if reopened:
        try:
            value = datetime.datetime.fromisoformat(reopened)
            start = max(start, value) if start else value
        except (TypeError, ValueError):
            pass
    return start


def follow_up_due(rule, event, bundle, report):
    ticket = report.obj
    delta = resolution_time_for(ticket) or datetime.timedelta(0)
    return ticket_start(ticket) + delta


def _of_ticket(bundle, ticket_id):
    class _Reports:
        reports = [r for r in bundle.reports if r.fields.get("ticket_id") == ticket_id]

    return _Reports


def follow_up_resolved(rule, bundle, report, event, due):
    """Resolved or closed, or a resolution comment on this ticket newer than its (re)opening inside the window."""
    if report.fields.get("status") in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        return True
    return rule.default_resolved_if(_of_ticket(bundle, report.id), report, event, due)


register_rule(TaskRule(
    name="grievance_follow_up", title="task.grievance.follow_up", icon="grievance",
    applies_to="reports", applies_to_type=["grievance_ticket"],
    # no status-based applies_if: a rule that stops emitting CANCELS its task instead of completing it
    events=[TaskEvent(id="follow-up", due_date=follow_up_due, start=99, end=2)],
    actions=[TaskAction(form="grievance_resolution", label="Resolve the grievance")],
    resolved_if=follow_up_resolved,
    contact_label=lambda rule, bundle, report: (
        bundle.contact.name if bundle.contact else (report.obj.title or report.obj.code)),
    priority=lambda rule, bundle, report, event, due: (
        {"level": "high", "label": "task.priority.high"} if (report.fields.get("priority") or "").lower()
        in ("critical", "high") else None),
    assignee=lambda rule, bundle, report: report.obj.attending_staff_id,
    enabled="grievance_social_protection.grievance_follow_up_task_enabled",
))

