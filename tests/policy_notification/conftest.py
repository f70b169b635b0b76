"""Fixtures of the policy_notification tests: configuration, households and enrolments."""
import datetime
import functools

import pytest
from django.utils import timezone

from individual.models import Group, GroupIndividual
from policy_notification.apps import NOTIFICATION_TYPES, PolicyNotificationConfig
from social_protection.models import BenefitPlan
from tests.individual.factories import GroupFactory, GroupIndividualFactory, IndividualFactory
from tests.policy_notification.factories import FamilyNotificationFactory
from tests.social_protection.factories import BeneficiaryFactory, BenefitPlanFactory, GroupBeneficiaryFactory

HEAD_PHONE = "0712345678"  # a Tanzanian mobile number: +255712345678 in the default region TZ
HEAD_E164 = "+255712345678"


@pytest.fixture
def pn_config(set_config):
    """``pn_config(key=value)``: set policy_notification configuration attributes for one test."""
    return functools.partial(set_config, PolicyNotificationConfig)


@pytest.fixture
def enable(pn_config):
    """``enable("activation_of_policy", …)``: exactly these triggers on (none given: all six)."""

    def setter(*types):
        chosen = set(types or NOTIFICATION_TYPES)
        pn_config(eligibleNotificationTypes={name: name in chosen for name in NOTIFICATION_TYPES})

    return setter


@pytest.fixture
def today():
    return timezone.localdate()


def at(day, hour=10):
    """An aware datetime on the local ``day``."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def household(admin_user):
    """``household(consent=True, language="en", head_phone=HEAD_PHONE, members=[phone, …], group_phone=None,
    notification=True)`` → the group; its head is ``group.head`` (a HEAD membership), other members follow."""

    def make(consent=True, language="en", head_phone=HEAD_PHONE, members=(), group_phone=None, notification=True,
             head_name=("Asha", "Juma")):
        group = GroupFactory(acting_user=admin_user)
        head = IndividualFactory(acting_user=admin_user, first_name=head_name[0], last_name=head_name[1],
                                 json_ext={"phone": head_phone} if head_phone else {})
        GroupIndividualFactory(acting_user=admin_user, group=group, individual=head,
                               role=GroupIndividual.Role.HEAD)
        group.members = [head]
        for phone in members:
            member = IndividualFactory(acting_user=admin_user, json_ext={"phone": phone} if phone else {})
            GroupIndividualFactory(acting_user=admin_user, group=group, individual=member,
                                   role=GroupIndividual.Role.SON)
            group.members.append(member)
        if group_phone:  # the group's own phone (memberships mirror the head's JSON into the group's: set it after)
            group.refresh_from_db()
            Group.objects.filter(id=group.id).update(json_ext={**group.json_ext, "phone": group_phone})
        if notification:
            FamilyNotificationFactory(acting_user=admin_user, group=group, approval_of_notification=consent,
                                      language_of_notification=language)
        group.head = head
        return group

    return make


@pytest.fixture
def group_plan(admin_user):
    return BenefitPlanFactory(acting_user=admin_user, code="CASH", name="Cash transfer",
                              type=BenefitPlan.BenefitPlanType.GROUP_TYPE)


@pytest.fixture
def individual_plan(admin_user):
    return BenefitPlanFactory(acting_user=admin_user, code="PENSION", name="Old age pension")


@pytest.fixture
def enrol_group(admin_user, group_plan, today):
    """``enrol_group(group, start=today, end=today+365, status="ACTIVE", plan=group_plan)``."""

    def make(group, start=None, end="default", status="ACTIVE", plan=None):
        end = today + datetime.timedelta(days=365) if end == "default" else end
        return GroupBeneficiaryFactory(
            acting_user=admin_user, group=group, benefit_plan=plan or group_plan, status=status,
            date_valid_from=at(start or today), date_valid_to=at(end) if end else None)

    return make


@pytest.fixture
def enrol_individual(admin_user, individual_plan, today):
    def make(individual, start=None, end="default", status="ACTIVE", plan=None):
        end = today + datetime.timedelta(days=365) if end == "default" else end
        return BeneficiaryFactory(
            acting_user=admin_user, individual=individual, benefit_plan=plan or individual_plan, status=status,
            date_valid_from=at(start or today), date_valid_to=at(end) if end else None)

    return make
