import datetime

import pytest

from individual.models import Group, GroupIndividual, Individual
from social_protection.apps import SocialProtectionConfig
from social_protection.models import BenefitPlan, Beneficiary, GroupBeneficiary
from tasks_management.models import TaskExecutor, TaskGroup

SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "number_of_children": {"type": "integer", "minimum": 0},
        "educated_level": {"type": "string"},
    },
}


@pytest.fixture
def config_override():
    """``config_override(key=value)``: set module config attributes for one test."""
    saved = {}

    def setter(**values):
        for key, value in values.items():
            saved.setdefault(key, getattr(SocialProtectionConfig, key))
            setattr(SocialProtectionConfig, key, value)

    yield setter
    for key, value in saved.items():
        setattr(SocialProtectionConfig, key, value)


@pytest.fixture
def make_plan(admin_user):
    def factory(code="BP1", name=None, type="INDIVIDUAL", schema=SCHEMA, criteria=None, **extra):
        plan = BenefitPlan(code=code, name=name or f"Plan {code}", type=type, max_beneficiaries=100,
                           beneficiary_data_schema=schema,
                           json_ext={"advanced_criteria": criteria} if criteria is not None else None, **extra)
        plan.save(user=admin_user)
        return plan

    return factory


@pytest.fixture
def make_individual(admin_user):
    def factory(first="John", last="Doe", children=0, **json_ext):
        individual = Individual(first_name=first, last_name=last, dob=datetime.date(1990, 1, 1),
                                json_ext={"number_of_children": children, **json_ext})
        individual.save(user=admin_user)
        return individual

    return factory


@pytest.fixture
def make_group(admin_user):
    def factory(code, members):
        """``members``: list of (individual, role)."""
        group = Group(code=code)
        group.save(user=admin_user)
        for individual, role in members:
            GroupIndividual(group=group, individual=individual, role=role).save(user=admin_user)
        return group

    return factory


@pytest.fixture
def enrol(admin_user):
    def factory(plan, individual=None, group=None, status="POTENTIAL", json_ext=None):
        if group is not None:
            obj = GroupBeneficiary(group=group, benefit_plan=plan, status=status, json_ext=json_ext or {})
        else:
            obj = Beneficiary(individual=individual, benefit_plan=plan, status=status,
                              json_ext=json_ext if json_ext is not None else dict(individual.json_ext))
        obj.save(user=admin_user)
        return obj

    return factory


@pytest.fixture
def checker(make_user, admin_user):
    """A second user, executor of a task group routing every social-protection task source."""
    user = make_user("checker", rights=[191001, 191003, 160001, 170001])
    group = TaskGroup(code="SP checkers", completion_policy="ANY",
                      json_ext={"task_sources": ["BenefitPlanService", "BeneficiaryService",
                                                 "GroupBeneficiaryService", "import_valid_items"]})
    group.save(user=admin_user)
    TaskExecutor(user=user, task_group=group).save(user=admin_user)
    return user
