import functools

import pytest

from core.test_helpers import assign_user_districts, create_test_location
from payment_cycle.apps import PaymentCycleConfig
from tasks_management.models import TaskExecutor, TaskGroup

CYCLE_RIGHTS = [200001, 200002, 200003, 200004, 200005]
PLAN_RIGHTS = [157101, 157102, 157103, 157104]


@pytest.fixture
def cycle_config(set_config):
    """``cycle_config(key=value)``: set payment_cycle configuration attributes for one test."""
    return functools.partial(set_config, PaymentCycleConfig)


@pytest.fixture
def cycle_officer(make_user):
    """Every payment-cycle right, no district: row security restricts them to individuals without a location."""
    return make_user("cycle-officer", rights=CYCLE_RIGHTS)


@pytest.fixture
def make_checker(make_user, admin_user):
    """``make_checker(username, source, rights)``: a user executing a task group that routes ``source`` tasks."""

    def factory(username, source, rights=(191001, 191003, 200001)):
        user = make_user(username, rights=list(rights))
        group = TaskGroup(code=f"{source} checkers", completion_policy="ANY", json_ext={"task_sources": [source]})
        group.save(user=admin_user)
        TaskExecutor(user=user, task_group=group).save(user=admin_user)
        return user

    return factory


@pytest.fixture
def cycle_checker(make_checker):
    """A second user, executor of a task group routing the payment-cycle tasks; may see and resolve tasks."""
    return make_checker("cycle-checker", "PaymentCycleService")


@pytest.fixture
def districts(db):
    """Two districts, each with a village: ``{"D1": village, "D2": village}``."""
    region = create_test_location("R", "PCR")
    villages = {}
    for code in ("PCD1", "PCD2"):
        district = create_test_location("D", code, parent=region)
        ward = create_test_location("W", f"{code}W", parent=district)
        villages[code] = create_test_location("V", f"{code}V", parent=ward)
    return villages


@pytest.fixture
def district_clerk(make_user, districts):
    """Entitlement rights (search and decisions), restricted to district PCD1."""
    user = make_user("district-clerk", rights=[200001, 200003])
    assign_user_districts(user, ["PCD1"])
    return user
