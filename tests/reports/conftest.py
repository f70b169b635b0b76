"""A small programme whose report figures are computed by hand in the tests.

Region R (code "RPR") with two districts RPD1 and RPD2, each with one ward and one village (RPV1, RPV2).

Registry (ages on today's date: born 2015 → 0-17, 1985 → 18-59, 1940 → 60+):
  V1: a (2015), b (1985), c (1940)      V2: d (1985), e (1985)      no location: f (1985)
  households: G1 at V1, G2 at V2, G3 without location
Enrolment (individual plan P, group plan GP):
  P: a ACTIVE → GRADUATED; b POTENTIAL; d ACTIVE → SUSPENDED → ACTIVE → SUSPENDED
  GP: G1 ACTIVE; G2 created SUSPENDED (not a change)
Payments, cycle C1 (starts 2025-03-01):
  plan PP (P): a 100.00 PAID (paid_amount 100.00), b 50.00 APPROVE_FOR_PAYMENT failed ("account closed"),
               d 70.00 ACCEPTED
  plan PP2 (GP): G2 30.00 ACCEPTED (its individual f has no location: the household's location, V2, counts)
Grievances (today's date; due dates around today):
  t1 reporter a, Payment/phone/High, OPEN, due yesterday (overdue)
  t2 reporter beneficiary of d, Payment/phone/High, RECEIVED, due tomorrow
  t3 reporter a user, Other/web/Low, RESOLVED 2 days after creation
  t4 reporter b, Payment, RESOLVED 4 days after creation
  t5 reporter d, Payment, RESOLVED 1 day after creation
Notifications: G1 activation SENT, G1 starting ERROR, G2 activation CLAIMED, no group activation NO_CONSENT.
"""
import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from core.test_helpers import create_test_location
from grievance_social_protection.models import Ticket
from individual.models import Individual
from payment_cycle.models import EntitlementStatus
from policy_notification.models import IndicationStatus
from social_protection.models import BeneficiaryStatus, BenefitPlan
from tests.grievance_social_protection.factories import TicketFactory
from tests.individual.factories import GroupFactory, IndividualFactory
from tests.payment_cycle.factories import EntitlementFactory, PaymentCycleFactory, PaymentPlanFactory
from tests.policy_notification.factories import NotificationIndicationFactory
from tests.social_protection.factories import BeneficiaryFactory, BenefitPlanFactory, GroupBeneficiaryFactory

ALL_RIGHTS = [159001, 170001, 200001, 127000, 131224, 191001]


def _status(enrolment, status, user):
    enrolment.status = status
    enrolment.save(user=user)


def _resolve_after(ticket, days, user):
    ticket.status = Ticket.TicketStatus.RESOLVED
    ticket.save(user=user)
    latest = ticket.history.order_by("-history_date").first()
    type(latest).objects.filter(history_id=latest.history_id).update(
        history_date=ticket.date_created + datetime.timedelta(days=days))


@pytest.fixture
def world(admin_user):
    user = admin_user
    region = create_test_location("R", "RPR", "Region")
    d1 = create_test_location("D", "RPD1", "District one", parent=region)
    d2 = create_test_location("D", "RPD2", "District two", parent=region)
    v1 = create_test_location("V", "RPV1", "Village one", parent=create_test_location("W", "RPW1", parent=d1))
    v2 = create_test_location("V", "RPV2", "Village two", parent=create_test_location("W", "RPW2", parent=d2))

    def person(name, year, location):
        return IndividualFactory(first_name=name, dob=datetime.date(year, 6, 1), location=location, acting_user=user)

    a, b, c = person("a", 2015, v1), person("b", 1985, v1), person("c", 1940, v1)
    d, e = person("d", 1985, v2), person("e", 1985, v2)
    f = person("f", 1985, None)
    g1 = GroupFactory(code="RPG1", location=v1, acting_user=user)
    g2 = GroupFactory(code="RPG2", location=v2, acting_user=user)
    g3 = GroupFactory(code="RPG3", location=None, acting_user=user)

    plan = BenefitPlanFactory(code="P", name="Cash", acting_user=user)
    group_plan = BenefitPlanFactory(code="GP", name="Household", type=BenefitPlan.BenefitPlanType.GROUP_TYPE,
                                    acting_user=user)
    ben_a = BeneficiaryFactory(individual=a, benefit_plan=plan, status=BeneficiaryStatus.ACTIVE, acting_user=user)
    ben_b = BeneficiaryFactory(individual=b, benefit_plan=plan, status=BeneficiaryStatus.POTENTIAL, acting_user=user)
    ben_d = BeneficiaryFactory(individual=d, benefit_plan=plan, status=BeneficiaryStatus.ACTIVE, acting_user=user)
    _status(ben_a, BeneficiaryStatus.GRADUATED, user)
    for status in (BeneficiaryStatus.SUSPENDED, BeneficiaryStatus.ACTIVE, BeneficiaryStatus.SUSPENDED):
        _status(ben_d, status, user)
    GroupBeneficiaryFactory(group=g1, benefit_plan=group_plan, status=BeneficiaryStatus.ACTIVE, acting_user=user)
    gben2 = GroupBeneficiaryFactory(group=g2, benefit_plan=group_plan, status=BeneficiaryStatus.SUSPENDED,
                                    acting_user=user)

    cycle = PaymentCycleFactory(code="C1", start_date=datetime.date(2025, 3, 1), end_date=datetime.date(2025, 3, 31),
                                acting_user=user)
    pp = PaymentPlanFactory(code="PP", benefit_plan=plan, acting_user=user)
    pp2 = PaymentPlanFactory(code="PP2", benefit_plan=group_plan, acting_user=user)
    today = timezone.localdate()
    EntitlementFactory(payment_cycle=cycle, payment_plan=pp, beneficiary=ben_a, amount=Decimal("100.00"),
                       status=EntitlementStatus.PAID, paid_amount=Decimal("100.00"), date_paid=today,
                       acting_user=user)
    EntitlementFactory(payment_cycle=cycle, payment_plan=pp, beneficiary=ben_b, amount=Decimal("50.00"),
                       status=EntitlementStatus.APPROVE_FOR_PAYMENT, failure_reason="account closed",
                       acting_user=user)
    EntitlementFactory(payment_cycle=cycle, payment_plan=pp, beneficiary=ben_d, amount=Decimal("70.00"),
                       acting_user=user)
    EntitlementFactory(payment_cycle=cycle, payment_plan=pp2, beneficiary=None, group_beneficiary=gben2,
                       benefit_plan=group_plan, individual=f, group=g2, amount=Decimal("30.00"), acting_user=user)

    day = datetime.timedelta(days=1)
    TicketFactory(reporter=a, category="Payment", channel="phone", priority="High", status="OPEN",
                  due_date=today - day, acting_user=user)
    TicketFactory(reporter=ben_d, category="Payment", channel="phone", priority="High", due_date=today + day,
                  acting_user=user)
    _resolve_after(TicketFactory(reporter=user, category="Other", channel="web", priority="Low",
                                 acting_user=user), 2, user)
    _resolve_after(TicketFactory(reporter=b, category="Payment", acting_user=user), 4, user)
    _resolve_after(TicketFactory(reporter=d, category="Payment", acting_user=user), 1, user)

    NotificationIndicationFactory(group=g1, notification_type="activation_of_policy", status=IndicationStatus.SENT,
                                  acting_user=user)
    NotificationIndicationFactory(group=g1, notification_type="starting_of_policy", status=IndicationStatus.ERROR,
                                  acting_user=user)
    NotificationIndicationFactory(group=g2, notification_type="activation_of_policy",
                                  status=IndicationStatus.CLAIMED, acting_user=user)
    NotificationIndicationFactory(group=None, notification_type="activation_of_policy",
                                  status=IndicationStatus.NO_CONSENT, acting_user=user)
    # a grievance follow-up (rule-generated task), overdue, about a reporter of village one
    from tasks_management.models import RuleState
    from tests.tasks_management.factories import TaskFactory

    TaskFactory(source="task_rules.grievance_follow_up", rule_name="grievance_follow_up", rule_state=RuleState.READY,
                due_date=today - day, location=v1, emission_key="world-follow-up", acting_user=user)
    assert Individual.objects.count() == 6
    return SimpleNamespace(region=region, d1=d1, d2=d2, v1=v1, v2=v2, plan=plan, group_plan=group_plan,
                           cycle=cycle, people={p.first_name: p for p in (a, b, c, d, e, f)},
                           groups=(g1, g2, g3), admin=user, today=today)


@pytest.fixture
def district_user(make_user, world):
    """Every report right, restricted to district RPD1."""
    return make_user("rp-d1", rights=ALL_RIGHTS, districts=["RPD1"])
