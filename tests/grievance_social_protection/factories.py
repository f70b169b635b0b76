"""factory_boy factories of the grievance module (rows saved with history, as the services write them).

Tests of behaviour (validation, comment ids, resolution, reopen, signals) call the services; these factories
make the rows a test only needs to exist. ``reporter=`` / ``commenter=`` take the linked object (a User, an
Individual or a Beneficiary).
"""
import hashlib

import factory
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile

from grievance_social_protection.models import Comment, Ticket, TicketAttachment, TicketMutation
from grievance_social_protection.services import attachment_storage, save_new_ticket
from tests import factories as base
from tests.factories import HistoryModelFactory, mutation_link_factory


def _link_type(attr):
    return factory.LazyAttribute(
        lambda o: ContentType.objects.get_for_model(getattr(o, attr)) if getattr(o, attr) is not None else None)


def _link_id(attr):
    return factory.LazyAttribute(lambda o: str(getattr(o, attr).pk) if getattr(o, attr) is not None else None)


class TicketFactory(HistoryModelFactory):
    """A RECEIVED ticket; its ``GRS`` code is generated as the service does unless ``code=`` is given."""

    class Meta:
        model = Ticket

    class Params:
        reporter = None

    title = factory.Sequence(lambda n: f"Grievance {n:04}")
    description = factory.Faker("sentence")
    category = "Default"
    resolution = "2,5"
    status = Ticket.TicketStatus.RECEIVED
    reporter_type = _link_type("reporter")
    reporter_id = _link_id("reporter")
    json_ext = factory.LazyFunction(dict)

    @classmethod
    def _create(cls, model_class, *args, acting_user=None, **kwargs):
        return save_new_ticket(model_class(*args, **kwargs), acting_user or base.acting_user())


class CommentFactory(HistoryModelFactory):
    """A comment (anonymous unless ``commenter=``); not a resolution."""

    class Meta:
        model = Comment

    class Params:
        commenter = None

    ticket = factory.SubFactory(TicketFactory)
    comment = factory.Faker("sentence")
    is_resolution = False
    commenter_type = _link_type("commenter")
    commenter_id = _link_id("commenter")
    json_ext = factory.LazyFunction(dict)


class TicketAttachmentFactory(HistoryModelFactory):
    """A text attachment whose bytes are stored like the service stores them (no type or size checks)."""

    class Meta:
        model = TicketAttachment

    class Params:
        content = b"Receipt of the missing payment\n"

    ticket = factory.SubFactory(TicketFactory)
    filename = factory.Sequence(lambda n: f"note-{n:04}.txt")
    mime_type = "text/plain"
    size = factory.LazyAttribute(lambda o: len(o.content))
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.content).hexdigest())
    stored_name = factory.LazyAttribute(lambda o: attachment_storage().save(
        f"factory/{hashlib.sha256(o.content).hexdigest()[:8]}-{o.filename}", ContentFile(o.content)))


TicketMutationFactory = mutation_link_factory(TicketMutation, "ticket", TicketFactory)
