import pytest
from django.apps import apps

from grievance_social_protection.services import CommentService, TicketService

ALL_RIGHTS = [127000, 127001, 127002, 127003, 127004, 127005, 127006]

needs_individual = pytest.mark.skipif(not apps.is_installed("individual"), reason="individual app not installed")
needs_social_protection = pytest.mark.skipif(not apps.is_installed("social_protection"),
                                             reason="social_protection app not installed")


@pytest.fixture
def officer(make_user):
    """A grievance officer holding every grievance right (but not an IMIS administrator)."""
    return make_user("grievance_officer", rights=ALL_RIGHTS)


@pytest.fixture
def make_ticket(officer):
    def factory(user=None, **data):
        payload = {"title": "Payment not received", "category": "Default", "resolution": "2,5", **data}
        result = TicketService(user or officer).create(payload)
        assert result["success"], result
        from grievance_social_protection.models import Ticket

        return Ticket.objects.get(id=result["data"]["id"])

    return factory


@pytest.fixture
def make_comment(officer):
    def factory(ticket, user=None, **data):
        result = CommentService(user or officer).create({"ticket_id": ticket.id, "comment": "A comment", **data})
        assert result["success"], result
        from grievance_social_protection.models import Comment

        return Comment.objects.get(id=result["data"]["id"])

    return factory


@pytest.fixture
def individual(admin_user):
    if not apps.is_installed("individual"):
        pytest.skip("individual app not installed")
    Individual = apps.get_model("individual", "Individual")
    person = Individual(first_name="Amina", last_name="Diallo", dob="1990-04-02", json_ext={})
    person.save(user=admin_user)
    return person


@pytest.fixture
def beneficiary(admin_user, individual):
    if not apps.is_installed("social_protection"):
        pytest.skip("social_protection app not installed")
    BenefitPlan = apps.get_model("social_protection", "BenefitPlan")
    Beneficiary = apps.get_model("social_protection", "Beneficiary")
    plan = BenefitPlan(code="GRSBP1", name="Grievance plan", type="INDIVIDUAL", max_beneficiaries=100,
                       date_valid_from="2024-01-01T00:00:00Z", date_valid_to="2030-12-31T00:00:00Z", json_ext={})
    plan.save(user=admin_user)
    obj = Beneficiary(individual=individual, benefit_plan=plan, status="ACTIVE", json_ext={},
                      date_valid_from="2024-01-01T00:00:00Z", date_valid_to="2030-12-31T00:00:00Z")
    obj.save(user=admin_user)
    return obj
