import pytest
from django.apps import apps

from tests.grievance_social_protection.factories import CommentFactory, TicketFactory

ALL_RIGHTS = [127000, 127001, 127002, 127003, 127004, 127005, 127006]


@pytest.fixture
def officer(make_user):
    """A grievance officer holding every grievance right (but not an IMIS administrator)."""
    return make_user("grievance_officer", rights=ALL_RIGHTS)


@pytest.fixture
def make_ticket(officer):
    """``make_ticket(**fields)``: a ticket written by the officer (``reporter=`` the linked object)."""

    def make(user=None, **data):
        return TicketFactory(acting_user=user or officer, **{"title": "Payment not received", **data})

    return make


@pytest.fixture
def make_comment(officer):
    """``make_comment(ticket, **fields)``: a comment written by the officer (``commenter=`` the linked object)."""

    def make(ticket, user=None, **data):
        return CommentFactory(acting_user=user or officer, ticket=ticket, **{"comment": "A comment", **data})

    return make


@pytest.fixture
def individual(admin_user):
    if not apps.is_installed("individual"):
        pytest.skip("individual app not installed")
    from tests.individual.factories import IndividualFactory

    return IndividualFactory(first_name="Amina", last_name="Diallo", dob="1990-04-02", acting_user=admin_user)


@pytest.fixture
def beneficiary(admin_user, individual):
    if not apps.is_installed("social_protection"):
        pytest.skip("social_protection app not installed")
    from tests.social_protection.factories import BeneficiaryFactory

    return BeneficiaryFactory(individual=individual, status="ACTIVE", acting_user=admin_user)
