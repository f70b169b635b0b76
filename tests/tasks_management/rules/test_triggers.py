"""Freshness triggers (task_rules.md §14): a committed save or soft delete of a contact marks it dirty and the
(eager) refresh follows; a write that rolls back marks nothing."""
import pytest
from django.db import transaction

from tasks_management.models import RuleState, TaskRuleContactState
from tests.individual.factories import IndividualFactory
from tests.tasks_management.rules.conftest import rule_tasks

pytestmark = pytest.mark.django_db


def test_saves_and_soft_deletes_refresh_the_contact(visit_rule, admin_user, on_commit):
    with on_commit():
        person = IndividualFactory(acting_user=admin_user)
    (task,) = rule_tasks()
    assert task.rule_state == RuleState.READY  # due two days after registration, shown from then (start 2)
    state = TaskRuleContactState.objects.get(contact_id=str(person.id))
    assert not state.is_dirty and state.calculated_at is not None
    with on_commit():
        person.refresh_from_db()
        person.json_ext = {**(person.json_ext or {}), "visited": True}
        person.save(user=admin_user)
    task.refresh_from_db()
    assert task.rule_state == RuleState.COMPLETED

    with on_commit():
        other = IndividualFactory(acting_user=admin_user)
    with on_commit():
        other.refresh_from_db()
        other.delete(user=admin_user)
    assert rule_tasks(entity_id=str(other.id))[0].rule_state == RuleState.CANCELLED


def test_a_rolled_back_write_marks_nothing(visit_rule, admin_user, on_commit):
    with on_commit():
        with pytest.raises(RuntimeError), transaction.atomic():
            IndividualFactory(acting_user=admin_user)
            raise RuntimeError("rolled back")
    assert rule_tasks() == [] and not TaskRuleContactState.objects.exists()
