"""factory_boy factories of payment_cycle (rows saved with history; ``acting_user=`` chooses the author)."""
import datetime
import uuid
from decimal import Decimal

import factory

from payment_cycle.models import (
    Entitlement,
    EntitlementCodeCounter,
    EntitlementStatus,
    PaymentCycle,
    PaymentCycleMutation,
    PaymentPlan,
    PaymentPlanMutation,
)
from tests.factories import HistoryModelFactory, mutation_link_factory
from tests.social_protection.factories import BeneficiaryFactory, BenefitPlanFactory

SOCIAL_PROTECTION_RULE = "32d96b58-898a-460a-b357-5fd4b95cd87c"


class PaymentCycleFactory(HistoryModelFactory):
    class Meta:
        model = PaymentCycle

    code = factory.Sequence(lambda n: f"PC-{n:05}")
    start_date = datetime.date(2025, 3, 1)
    end_date = datetime.date(2025, 3, 31)
    status = PaymentCycle.PaymentCycleStatus.PENDING


class PaymentPlanFactory(HistoryModelFactory):
    """A monthly plan of the social protection rule paying 1500 (no limit) to the enrolments of a benefit plan."""

    class Meta:
        model = PaymentPlan

    code = factory.Sequence(lambda n: f"PP{n:05}")
    name = factory.LazyAttribute(lambda o: f"Payment plan {o.code}")
    benefit_plan = factory.SubFactory(BenefitPlanFactory)
    calculation = uuid.UUID(SOCIAL_PROTECTION_RULE)
    periodicity = 1
    date_valid_from = datetime.date(2020, 1, 1)
    date_valid_to = None
    json_ext = factory.LazyFunction(lambda: {"calculation_rule": {"fixed_batch": 1500,
                                                                  "limit_per_single_transaction": 0},
                                             "advanced_criteria": []})


class EntitlementFactory(HistoryModelFactory):
    """An entitlement of an individual beneficiary (its plan, cycle and payment plan made alongside)."""

    class Meta:
        model = Entitlement

    payment_cycle = factory.SubFactory(PaymentCycleFactory)
    beneficiary = factory.SubFactory(BeneficiaryFactory)
    payment_plan = factory.SubFactory(PaymentPlanFactory, benefit_plan=factory.SelfAttribute("..beneficiary.benefit_plan"))
    benefit_plan = factory.SelfAttribute("beneficiary.benefit_plan")
    individual = factory.SelfAttribute("beneficiary.individual")
    code = factory.Sequence(lambda n: f"E{n:07}")
    amount = Decimal("1500.00")
    currency = "USD"
    date_due = factory.SelfAttribute("payment_cycle.end_date")
    period_start = factory.SelfAttribute("payment_cycle.start_date")
    period_end = factory.SelfAttribute("payment_cycle.end_date")
    status = EntitlementStatus.ACCEPTED
    calculation = uuid.UUID(SOCIAL_PROTECTION_RULE)


PaymentCycleMutationFactory = mutation_link_factory(PaymentCycleMutation, "payment_cycle", PaymentCycleFactory)
PaymentPlanMutationFactory = mutation_link_factory(PaymentPlanMutation, "payment_plan", PaymentPlanFactory)


class EntitlementCodeCounterFactory(factory.django.DjangoModelFactory):
    """The single counter row (made by the migration; ``django_get_or_create`` keeps it single)."""

    class Meta:
        model = EntitlementCodeCounter
        django_get_or_create = ("id",)

    id = 1
