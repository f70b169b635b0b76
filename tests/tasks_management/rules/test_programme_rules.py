"""The two programme rules of social_protection/task_rules.py (off by default): the post-enrolment check-in
(report rule on enrolments, a contact action, resolved by a visit date) and the six-monthly household
re-verification (contact rule with a due_date callable)."""
import datetime

import pytest
from django.utils import timezone

from social_protection.apps import SocialProtectionConfig
from tasks_management.models import RuleState
from tasks_management.rules import engine
from tests.individual.factories import GroupFactory, IndividualFactory
from tests.social_protection.factories import BeneficiaryFactory
from tests.tasks_management.rules.conftest import rule_tasks

pytestmark = pytest.mark.django_db


def aware(*args):
    return timezone.make_aware(datetime.datetime(*args))


def test_post_enrolment_check_in(admin_user, set_config):
    individual = IndividualFactory(acting_user=admin_user)
    beneficiary = BeneficiaryFactory(individual=individual, status="ACTIVE", acting_user=admin_user)
    type(beneficiary).objects.filter(id=beneficiary.id).update(date_created=aware(2026, 3, 1, 10))
    engine.refresh(everything=True, at=aware(2026, 3, 6, 9), user=admin_user)
    assert rule_tasks(rule_name="post_enrolment_check_in") == []  # off by default
    set_config(SocialProtectionConfig, post_enrolment_check_in_task_enabled=True)
    engine.refresh(everything=True, at=aware(2026, 3, 6, 9), user=admin_user)
    (task,) = rule_tasks(rule_name="post_enrolment_check_in")
    assert (task.start_date, task.due_date, task.end_date, task.rule_state) == (
        datetime.date(2026, 3, 5), datetime.date(2026, 3, 8), datetime.date(2026, 3, 15), RuleState.READY)
    assert task.data["actions"][0]["type"] == "contact" and task.data["for_id"] == str(individual.id)
    individual.refresh_from_db()
    individual.json_ext = {**(individual.json_ext or {}), "last_visit_date": "2026-03-07"}
    individual.save(user=admin_user)
    engine.refresh(subjects=[("individual.individual", individual.id)], at=aware(2026, 3, 7, 12), user=admin_user)
    task.refresh_from_db()
    assert task.rule_state == RuleState.COMPLETED


def test_household_reverification_cycles(admin_user, set_config):
    set_config(SocialProtectionConfig, household_reverification_task_enabled=True)
    group = GroupFactory(acting_user=admin_user)
    type(group).objects.filter(id=group.id).update(date_created=aware(2025, 9, 1, 10))
    label = [("individual.group", group.id)]
    engine.refresh(subjects=label, at=aware(2026, 2, 20, 9), user=admin_user)
    (task,) = rule_tasks(rule_name="household_reverification")
    assert task.due_date == datetime.date(2025, 9, 1) + datetime.timedelta(days=182)
    assert task.rule_state == RuleState.READY  # window opened 14 days before the due date
    group.refresh_from_db()
    group.json_ext = {"last_verified_at": "2026-02-25"}
    group.save(user=admin_user)
    engine.refresh(subjects=label, at=aware(2026, 2, 25, 12), user=admin_user)
    task.refresh_from_db()
    assert task.rule_state == RuleState.COMPLETED
    # after the window, the next cycle's task (Draft, six months later) is a new document
    engine.refresh(subjects=label, at=aware(2026, 4, 15, 9), user=admin_user)
    states = [(t.rule_state, t.due_date) for t in rule_tasks(rule_name="household_reverification")]
    assert states == [(RuleState.COMPLETED, datetime.date(2026, 3, 2)),
                      (RuleState.DRAFT, datetime.date(2026, 3, 2) + datetime.timedelta(days=182))]
