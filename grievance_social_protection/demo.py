"""Demo contribution: tickets in several states, some reported by demo individuals. Idempotent."""
import base64

from grievance_social_protection.links import link_type
from grievance_social_protection.models import Comment, Ticket, TicketAttachment
from grievance_social_protection.services import CommentService, TicketAttachmentService, TicketService

DEMO_TICKETS = [
    # key, title, category, status, priority, channel, flags, resolution comment
    ("demo-grs-1", "Payment not received in March", "Default", "RECEIVED", "High", "Channel A", "Default", None),
    ("demo-grs-2", "Wrong household size in the registry", "Category A", "OPEN", "Normal", "Default", "Flag A",
     None),
    ("demo-grs-3", "Pay point too far from the village", "Category B", "IN_PROGRESS", "Low", "Channel B",
     "Flag A,Flag B", None),
    ("demo-grs-4", "Name misspelled on the payment card", "Default", "CLOSED", "Critical", "Channel A", "Default",
     "Card reprinted with the corrected name and handed over."),
]


def _demo_individuals():
    individuals = link_type("individual")  # the individual module's selector, when it is installed
    if individuals is None:
        return []
    return list(individuals.rows().filter(is_deleted=False).order_by("date_created", "id")[:2])


def contribute(ctx):
    individuals = _demo_individuals()
    created = 0
    for index, (key, title, category, status, priority, channel, flags, resolution) in enumerate(DEMO_TICKETS):
        if Ticket.objects.filter(key=key).exists():
            continue
        if index < len(individuals):
            reporter = {"reporter_type": "individual", "reporter_id": str(individuals[index].id)}
        else:
            reporter = {"reporter_type": "user", "reporter_id": str(ctx.admin.id)}
        result = TicketService(ctx.admin).create({
            "key": key, "title": title, "description": f"Demo grievance: {title.lower()}.", "category": category,
            "priority": priority, "channel": channel, "flags": flags, "attending_staff_id": ctx.admin.id,
            "status": "OPEN" if resolution else status, **reporter,
        })
        if not result["success"]:
            ctx.log(f"could not create demo ticket {key}: {result['detail']}")
            continue
        ticket_id = result["data"]["id"]
        CommentService(ctx.admin).create({"ticket_id": ticket_id, "comment": "Grievance registered, follow-up planned.",
                                          "commenter_type": "user", "commenter_id": str(ctx.admin.id)})
        note = f"Call notes for {key}: the grievant was called back and the case was explained.\n"
        TicketAttachmentService(ctx.admin).create({
            "ticket_id": ticket_id, "filename": f"{key}-call-notes.txt", "mime_type": "text/plain",
            "document": base64.b64encode(note.encode()).decode()})
        if resolution:
            comment = CommentService(ctx.admin).create({"ticket_id": ticket_id, "comment": resolution,
                                                        "commenter_type": "user", "commenter_id": str(ctx.admin.id)})
            CommentService(ctx.admin).resolve_grievance_by_comment({"id": comment["data"]["id"]})
        created += 1
    total = Ticket.objects.filter(key__startswith="demo-grs-").count()
    ctx.log(f"grievance tickets: {created} created, {total} demo tickets in total "
            f"({Comment.objects.filter(ticket__key__startswith='demo-grs-').count()} comments, "
            f"{TicketAttachment.objects.filter(ticket__key__startswith='demo-grs-').count()} attachments)")
