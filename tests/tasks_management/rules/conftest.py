import datetime

import pytest
from django.utils import timezone

from tasks_management.models import Task
from tasks_management.rules import engine


@pytest.fixture
def at():
    """A fixed evaluation time (the engine's clock in these tests), local noon."""
    return timezone.make_aware(datetime.datetime(2026, 3, 10, 12, 0))


@pytest.fixture
def run(admin_user):
    """``run(at=..., **refresh kwargs)`` → RefreshStats (every subject, or those given)."""

    def call(at=None, subjects=None, everything=None, **kwargs):
        if everything is None:
            everything = subjects is None
        return engine.refresh(subjects=subjects, at=at, everything=everything, user=admin_user, **kwargs)

    return call


def rule_tasks(**filters):
    return list(Task.objects.filter(rule_name__isnull=False, **filters).order_by("date_created", "id"))


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the on-commit hooks (dirty marking + the eager refresh) of what the block does."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def individual(admin_user):
    from tests.individual.factories import IndividualFactory

    return IndividualFactory(first_name="Amina", last_name="Diallo", dob="1990-04-02", acting_user=admin_user)


@pytest.fixture
def visit_rule():
    """A contact rule on individuals for these tests: due 2 days after registration (days=2, start=2, end=5),
    assigned to the user named by ``json_ext.worker``, priority from ``json_ext.priority``; resolved when
    ``json_ext.visited`` is true. Registered for the test only (other rules are switched off)."""
    from grievance_social_protection.apps import TicketConfig
    from tasks_management.rules import registry
    from tasks_management.rules.schema import TaskAction, TaskEvent, TaskRule

    def assignee(rule, bundle, report):
        from core.models import User

        worker = bundle.contact.fields.get("worker")
        return User.objects.filter(username=worker).values_list("id", flat=True).first() if worker else None

    rule = TaskRule(
        name="test_visit", title="task.test.visit", applies_to="contacts", applies_to_type=["individual"],
        events=[TaskEvent(id="visit", days=2, start=2, end=5)],
        actions=[TaskAction(type="contact")],
        resolved_if=lambda rule, bundle, report, event, due: bool(bundle.contact.fields.get("visited")),
        priority=lambda rule, bundle, report, event, due: bundle.contact.fields.get("priority"),
        assignee=assignee,
    )
    saved = TicketConfig.grievance_follow_up_task_enabled
    TicketConfig.grievance_follow_up_task_enabled = False
    registry.register_rule(rule, replace=True)
    yield rule
    registry.unregister_rule(rule.name)
    TicketConfig.grievance_follow_up_task_enabled = saved
