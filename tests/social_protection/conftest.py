import functools

import pytest

from social_protection.apps import SocialProtectionConfig
from tasks_management.models import TaskExecutor, TaskGroup
from tests.individual.factories import GroupFactory, GroupIndividualFactory, IndividualFactory
from tests.social_protection.factories import SCHEMA, BeneficiaryFactory, BenefitPlanFactory, GroupBeneficiaryFactory


@pytest.fixture
def config_override(set_config):
    """``config_override(key=value)``: set module config attributes for one test."""
    return functools.partial(set_config, SocialProtectionConfig)


@pytest.fixture
def make_plan(admin_user):
    def factory(code="BP1", name=None, type="INDIVIDUAL", schema=SCHEMA, criteria=None, **extra):
        return BenefitPlanFactory(code=code, name=name or f"Plan {code}", type=type, beneficiary_data_schema=schema,
                                  json_ext={"advanced_criteria": criteria} if criteria is not None else None,
                                  acting_user=admin_user, **extra)

    return factory


@pytest.fixture
def make_individual(admin_user):
    def factory(first="John", last="Doe", children=0, **json_ext):
        return IndividualFactory(first_name=first, last_name=last, json_ext={"number_of_children": children, **json_ext},
                                 acting_user=admin_user)

    return factory


@pytest.fixture
def make_group(admin_user):
    def factory(code, members):
        """``members``: list of (individual, role)."""
        group = GroupFactory(code=code, acting_user=admin_user)
        for individual, role in members:
            GroupIndividualFactory(group=group, individual=individual, role=role, acting_user=admin_user)
        return group

    return factory


@pytest.fixture
def enrol(admin_user):
    def factory(plan, individual=None, group=None, status="POTENTIAL", json_ext=None):
        if group is not None:
            return GroupBeneficiaryFactory(group=group, benefit_plan=plan, status=status, json_ext=json_ext or {},
                                           acting_user=admin_user)
        return BeneficiaryFactory(individual=individual, benefit_plan=plan, status=status,
                                  acting_user=admin_user, **({"json_ext": json_ext} if json_ext is not None else {}))

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
