from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import HistoryBusinessModel, HistoryModel, MutationLog, ObjectMutation, UUIDModel


class TicketStatus(models.TextChoices):
    RECEIVED = "RECEIVED", _("Received")
    OPEN = "OPEN", _("Open")
    IN_PROGRESS = "IN_PROGRESS", _("In progress")
    RESOLVED = "RESOLVED", _("Resolved")
    CLOSED = "CLOSED", _("Closed")


class Ticket(HistoryBusinessModel):
    """A grievance. Reporter is a generic link to an Individual, a Beneficiary or a User."""

    TicketStatus = TicketStatus

    key = models.TextField(null=True, blank=True)
    title = models.CharField(max_length=255, null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    code = models.CharField(max_length=16, null=True, blank=True, unique=True)
    reporter_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.DO_NOTHING,
                                      related_name="+")
    reporter_id = models.CharField(max_length=255, null=True, blank=True, db_index=True)
    reporter = GenericForeignKey("reporter_type", "reporter_id")
    attending_staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                                        related_name="attended_tickets")
    date_of_incident = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=TicketStatus.choices, default=TicketStatus.RECEIVED)
    priority = models.CharField(max_length=20, null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    category = models.CharField(max_length=255, null=True, blank=True)
    flags = models.CharField(max_length=255, null=True, blank=True)
    channel = models.CharField(max_length=255, null=True, blank=True)
    resolution = models.CharField(max_length=255, null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "is_deleted"])]

    def __str__(self):
        return self.title or self.code or str(self.id)


class Comment(HistoryModel):
    ticket = models.ForeignKey(Ticket, on_delete=models.DO_NOTHING, related_name="comments")
    commenter_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.DO_NOTHING,
                                       related_name="+")
    commenter_id = models.CharField(max_length=255, null=True, blank=True)
    commenter = GenericForeignKey("commenter_type", "commenter_id")
    comment = models.TextField()
    is_resolution = models.BooleanField(default=False)

    class Meta:
        constraints = [
            # at most one resolution comment per ticket (spec §3.3, enforced by the services too)
            models.UniqueConstraint(fields=["ticket"], condition=models.Q(is_resolution=True, is_deleted=False),
                                    name="grievance_comment_one_resolution_per_ticket"),
        ]

    def __str__(self):
        return (self.comment or "")[:50]

    @classmethod
    def get_queryset(cls, queryset, user):
        """127004 sees every comment; attending staff see the comments of the tickets they attend."""
        from core.rights import has_rights, is_authenticated

        queryset = queryset if queryset is not None else cls.objects.all()
        if not is_authenticated(user):
            return queryset.none()
        if has_rights(user, "grievance_social_protection.gql_query_comments_perms"):
            return queryset
        return queryset.filter(ticket__attending_staff=user)


class TicketAttachment(HistoryModel):
    """A file attached to a ticket (evidence: photos, scanned letters, PDFs). The bytes live in the attachment
    storage (``TicketAttachmentService``) under ``stored_name``, a generated name: the client's ``filename`` is
    only shown, never used as a path."""

    # not "attachments": that is the ticket's GraphQL field, batch-loaded live rows under the rights, and the
    # lists' selection-driven prefetch would also read every row of a relation with that name
    ticket = models.ForeignKey(Ticket, on_delete=models.DO_NOTHING, related_name="ticket_attachments")
    filename = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=255)
    date = models.DateField(default=timezone.localdate)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_name = models.CharField(max_length=255, unique=True, editable=False)

    class Meta:
        indexes = [models.Index(fields=["ticket", "is_deleted"])]

    def __str__(self):
        return self.filename

    @classmethod
    def get_queryset(cls, queryset, user):
        """An attachment is seen by whoever may see its ticket (the ticket's row security hook)."""
        queryset = queryset if queryset is not None else cls.objects.all()
        everything = Ticket.objects.all()
        visible = Ticket.get_queryset(everything, user)
        if len(visible.query.where.children) == len(everything.query.where.children):
            return queryset  # the ticket rule hides nothing from this user: no subquery
        return queryset.filter(ticket__in=visible.values("pk"))


class TicketMutation(UUIDModel, ObjectMutation):
    ticket = models.ForeignKey(Ticket, on_delete=models.DO_NOTHING, related_name="mutations")
    mutation = models.ForeignKey(MutationLog, on_delete=models.CASCADE, related_name="tickets")
