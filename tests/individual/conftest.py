import datetime

import pytest

from core.test_helpers import create_test_village
from tests.individual.factories import GroupFactory, GroupIndividualFactory, IndividualFactory

INDIVIDUAL_RIGHTS = [159001, 159002, 159003, 159004, 159005]
GROUP_RIGHTS = [180001, 180002, 180003, 180004]
ALL_RIGHTS = INDIVIDUAL_RIGHTS + GROUP_RIGHTS


def make_individual(user, first="John", last="Doe", location=None, json_ext=None, dob=datetime.date(1990, 1, 1)):
    return IndividualFactory(first_name=first, last_name=last, dob=dob, location=location, json_ext=json_ext or {},
                             acting_user=user)


def make_group(user, code="G1", location=None):
    return GroupFactory(code=code, location=location, acting_user=user)


def add_member(user, group, individual, role=None, recipient_type=None):
    return GroupIndividualFactory(group=group, individual=individual, role=role, recipient_type=recipient_type,
                                  acting_user=user)


@pytest.fixture
def villages(db):
    """Two villages in two districts (codes AD / BD)."""
    return create_test_village("A"), create_test_village("B")


@pytest.fixture
def registry(admin_user, villages):
    """Fixture as upstream: individuals/groups in district A, district B and without location."""
    va, vb = villages
    data = {
        "ind_a": make_individual(admin_user, "Alice", "Alpha", va),
        "ind_b": make_individual(admin_user, "Bob", "Beta", vb),
        "ind_none": make_individual(admin_user, "Nina", "None"),
        "ind_a_in_free_group": make_individual(admin_user, "Fred", "Free", va),
        "group_a": make_group(admin_user, "GA", va),
        "group_b": make_group(admin_user, "GB", vb),
        "group_none": make_group(admin_user, "GN"),
    }
    data["gi_a"] = add_member(admin_user, data["group_a"], data["ind_a"])
    data["gi_b"] = add_member(admin_user, data["group_b"], data["ind_b"])
    data["gi_free"] = add_member(admin_user, data["group_none"], data["ind_a_in_free_group"])
    return data


@pytest.fixture
def district_b_user(make_user, villages):
    return make_user("district-b", rights=ALL_RIGHTS, districts=["BD"])


@pytest.fixture
def district_a_user(make_user, villages):
    return make_user("district-a", rights=ALL_RIGHTS, districts=["AD"])


@pytest.fixture
def no_checker(monkeypatch):
    """Maker-checker off: mutations write directly."""
    from individual.apps import IndividualConfig

    for flag in ("check_individual_update", "check_individual_delete", "check_group_individual_update",
                 "check_group_create"):
        monkeypatch.setattr(IndividualConfig, flag, False)
