"""Django admin writes business records without their services (issue 10, item 29): editing an individual saved
it directly with no approval task; a ticket accepted category "Bogus category", channel "Carrier pigeon" and
resolution "500,99". Registry, enrolment, task and ticket records are now read-only in admin, their history still
visible. The staff user logs in through the admin login form and posts the forms as a browser does (CSRF token
from the cookie, the change form's own fields, inline management forms)."""
import datetime
import json

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client
from django.urls import reverse

from core.test_helpers import DEFAULT_PASSWORD, create_test_technical_user
from grievance_social_protection.models import Comment, Ticket
from individual.models import Group, GroupIndividual, Individual
from social_protection.models import BenefitPlan, Beneficiary, GroupBeneficiary
from tasks_management.models import Task, TaskExecutor, TaskGroup
from tests.grievance_social_protection.factories import CommentFactory, TicketFactory
from tests.individual.factories import GroupIndividualFactory, IndividualFactory
from tests.social_protection.factories import BeneficiaryFactory, GroupBeneficiaryFactory
from tests.tasks_management.factories import TaskExecutorFactory, TaskFactory

pytestmark = pytest.mark.django_db

BUSINESS_MODELS = [Individual, Group, GroupIndividual, BenefitPlan, Beneficiary, GroupBeneficiary, Task, TaskGroup,
                   TaskExecutor, Ticket, Comment]


@pytest.fixture
def staff(db):
    """A Django superuser (the most privileged admin user), logged in through the admin login form."""
    user = create_test_technical_user("admin-staff", super_user=True)
    client = Client(enforce_csrf_checks=True)
    login = reverse("admin:login")
    client.get(login)
    response = client.post(login, {"username": user.username, "password": DEFAULT_PASSWORD, "next": "/api/admin/",
                                   "csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 302, response.content[:500]
    return client


def _csrf(client):
    return client.cookies["csrftoken"].value


def _url(obj, view, *args):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk, *args])


def _form_value(field, value):
    if value is None:
        return ""
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    if isinstance(field, models.BooleanField):
        return "on" if value else ""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def change_form(obj, **changes):
    """What the browser posts from the change page: every editable field, the changes, empty inline forms."""
    data = {}
    for field in obj._meta.fields:
        if not field.editable or field.primary_key or field.auto_created:
            continue
        value = changes.get(field.name, getattr(obj, field.attname))
        if isinstance(field, models.DateTimeField):
            value = value or datetime.datetime(2024, 1, 1)
            data[f"{field.name}_0"], data[f"{field.name}_1"] = value.date().isoformat(), value.strftime("%H:%M:%S")
        else:
            data[field.name] = _form_value(field, value)
    data.update({k: v for k, v in changes.items() if k not in data and f"{k}_0" not in data})
    for inline in admin.site._registry[type(obj)].inlines:
        fk = next(f for f in inline.model._meta.fields
                  if f.is_relation and f.related_model is type(obj) and f.name == (inline.fk_name or f.name))
        prefix = fk.remote_field.get_accessor_name(model=inline.model).replace("+", "")
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data


def state(obj):
    """The row as stored (every column) and its number of history rows."""
    row = type(obj).objects.filter(pk=obj.pk).values().get()
    return row, obj.history.count()


@pytest.fixture
def records(admin_user):
    ticket = TicketFactory(acting_user=admin_user)
    group_individual = GroupIndividualFactory(acting_user=admin_user)
    executor = TaskExecutorFactory(acting_user=admin_user)
    return {
        Individual: IndividualFactory(acting_user=admin_user),
        Group: group_individual.group,
        GroupIndividual: group_individual,
        Beneficiary: (beneficiary := BeneficiaryFactory(acting_user=admin_user)),
        BenefitPlan: beneficiary.benefit_plan,
        GroupBeneficiary: GroupBeneficiaryFactory(acting_user=admin_user),
        Task: TaskFactory(acting_user=admin_user),
        TaskGroup: executor.task_group,
        TaskExecutor: executor,
        Ticket: ticket,
        Comment: CommentFactory(ticket=ticket, acting_user=admin_user),
    }


# a change a staff user would make on each record's form
CHANGES = {
    Individual: {"first_name": "Edited in admin"},
    Group: {"code": "ADMIN-EDIT"},
    GroupIndividual: {"role": "HEAD"},
    BenefitPlan: {"name": "Edited plan", "max_beneficiaries": 999999},
    Beneficiary: {"status": "ACTIVE"},
    GroupBeneficiary: {"status": "ACTIVE"},
    Task: {"status": "COMPLETED"},
    TaskGroup: {"code": "admin-edit", "completion_policy": "ALL"},
    TaskExecutor: {"is_deleted": True},
    Ticket: {"category": "Bogus category", "channel": "Carrier pigeon", "resolution": "500,99"},
    Comment: {"comment": "Rewritten in admin", "is_resolution": True},
}


def test_a_ticket_with_a_bogus_category_cannot_be_saved_in_admin(staff, records):
    ticket = records[Ticket]
    before = state(ticket)
    response = staff.post(_url(ticket, "change"), {**change_form(ticket, **CHANGES[Ticket]), "_save": "Save",
                                                   "csrfmiddlewaretoken": _csrf(staff)})
    assert response.status_code == 403
    assert state(ticket) == before
    ticket.refresh_from_db()
    assert (ticket.category, ticket.channel, ticket.resolution) != ("Bogus category", "Carrier pigeon", "500,99")


def test_an_individual_edited_in_admin_is_not_saved_around_the_approval_task(staff, records):
    individual = records[Individual]
    before = state(individual)
    response = staff.post(_url(individual, "change"), {**change_form(individual, first_name="Edited in admin"),
                                                       "_save": "Save", "csrfmiddlewaretoken": _csrf(staff)})
    assert response.status_code == 403
    assert state(individual) == before
    assert not Task.objects.filter(entity_id=str(individual.id)).exists()  # nor a task: the service makes those


@pytest.mark.parametrize("model", BUSINESS_MODELS, ids=lambda m: m.__name__)
def test_business_records_are_read_only_in_admin_with_their_history(staff, records, model):
    obj = records[model]
    before = state(obj)
    token = {"csrfmiddlewaretoken": _csrf(staff)}
    opts = obj._meta

    # the record and its history still open
    assert staff.get(_url(obj, "change")).status_code == 200
    history = staff.get(_url(obj, "history"))
    assert history.status_code == 200
    version = obj.history.order_by("history_id").first()
    assert staff.get(_url(obj, "simple_history", version.history_id)).status_code == 200

    # every write is refused: change, revert to a version, delete, the delete action, add
    assert staff.post(_url(obj, "change"), {**change_form(obj, **CHANGES[model]), "_save": "Save",
                                            **token}).status_code == 403
    assert staff.post(_url(obj, "simple_history", version.history_id),
                      {**change_form(obj, **CHANGES[model]), **token}).status_code == 403
    assert staff.post(_url(obj, "delete"), {"post": "yes", **token}).status_code == 403
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    staff.post(changelist, {"action": "delete_selected", "_selected_action": [str(obj.pk)], "post": "yes",
                            "index": "0", **token})
    add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    count = model.objects.count()
    assert staff.post(add, {**change_form(obj, **CHANGES[model]), "_save": "Save", **token}).status_code == 403
    assert model.objects.count() == count

    assert state(obj) == before  # nothing changed, no history row written
