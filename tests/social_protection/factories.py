"""factory_boy factories of social_protection: each makes a valid row saved with history (``save(user=…)``;
pass ``acting_user=`` to choose the author). Registry rows come from ``tests.individual.factories``."""
import factory

from social_protection.models import (
    BeneficiaryStatus,
    BenefitPlan,
    BenefitPlanDataUploadRecords,
    BenefitPlanMutation,
    Beneficiary,
    GroupBeneficiary,
)
from tests.factories import HistoryModelFactory, mutation_link_factory
from tests.individual.factories import GroupFactory, IndividualDataSourceUploadFactory, IndividualFactory

SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "number_of_children": {"type": "integer", "minimum": 0},
        "educated_level": {"type": "string"},
    },
}


class BenefitPlanFactory(HistoryModelFactory):
    """An INDIVIDUAL plan with the beneficiary schema above; ``type="GROUP"`` for a group plan."""

    class Meta:
        model = BenefitPlan

    code = factory.Sequence(lambda n: f"BP{n:05}")
    name = factory.LazyAttribute(lambda o: f"Plan {o.code}")
    type = BenefitPlan.BenefitPlanType.INDIVIDUAL_TYPE
    max_beneficiaries = 100
    beneficiary_data_schema = factory.LazyFunction(lambda: dict(SCHEMA))


class BeneficiaryFactory(HistoryModelFactory):
    """A beneficiary holding a copy of its individual's attributes, as the enrolment writes it."""

    class Meta:
        model = Beneficiary

    individual = factory.SubFactory(IndividualFactory)
    benefit_plan = factory.SubFactory(BenefitPlanFactory)
    status = BeneficiaryStatus.POTENTIAL
    json_ext = factory.LazyAttribute(lambda o: dict(o.individual.json_ext or {}))


class GroupBeneficiaryFactory(HistoryModelFactory):
    class Meta:
        model = GroupBeneficiary

    group = factory.SubFactory(GroupFactory)
    benefit_plan = factory.SubFactory(BenefitPlanFactory, type=BenefitPlan.BenefitPlanType.GROUP_TYPE)
    status = BeneficiaryStatus.POTENTIAL
    json_ext = factory.LazyFunction(dict)


class BenefitPlanDataUploadRecordsFactory(HistoryModelFactory):
    class Meta:
        model = BenefitPlanDataUploadRecords

    data_upload = factory.SubFactory(IndividualDataSourceUploadFactory, source_type="beneficiary import")
    benefit_plan = factory.SubFactory(BenefitPlanFactory)
    workflow = "Enrollment"
    json_ext = factory.LazyFunction(lambda: {"group_aggregation_column": None})


BenefitPlanMutationFactory = mutation_link_factory(BenefitPlanMutation, "benefit_plan", BenefitPlanFactory)
