"""Custom filters on beneficiary attributes, defined by the plans' beneficiary_data_schema."""
import json

from core.custom_filters import (
    CustomFilterDefinition,
    CustomFilterWizardInterface,
    custom_filter_q,
    filters_from_json_schema,
)


class BenefitPlanCustomFilterWizard(CustomFilterWizardInterface):
    """Module ``social_protection``, object ``BenefitPlan``: filters ``json_ext__<field>__<lookup>``."""

    OBJECT_TYPE = "BenefitPlan"

    def get_type_of_object(self):
        return self.OBJECT_TYPE

    def load_definition(self, tuple_type=None, uuid=None, type=None, **kwargs):
        from social_protection.models import BenefitPlan

        tuple_type = tuple_type or CustomFilterDefinition
        plans = BenefitPlan.objects.filter(is_deleted=False, beneficiary_data_schema__isnull=False)
        if uuid:
            plans = plans.filter(id=uuid)
        if type:
            plans = plans.filter(type=str(type).upper())
        seen, possible = set(), []
        for schema in plans.values_list("beneficiary_data_schema", flat=True):
            for item in filters_from_json_schema(schema):
                if (item.field, item.filter, item.type) not in seen:
                    seen.add((item.field, item.filter, item.type))
                    possible.append(item)
        return [tuple_type(type=self.OBJECT_TYPE, code=self.OBJECT_TYPE, object_class_name="BenefitPlan",
                           possible_filters=possible)]

    def apply_filter_to_queryset(self, custom_filters, query, relation=None):
        for item in custom_filters or []:
            query = query.filter(custom_filter_q([item], relation=relation)).distinct()
        return query


class _EnrolmentCustomFilterWizard(CustomFilterWizardInterface):
    """Filters on an enrolment's own ``json_ext`` (what a payment plan's advanced criteria read), offered from the
    ``beneficiary_data_schema`` of the benefit plan ``uuid`` (``uuidOfObject``, or ``additionalParams.benefitPlan``),
    else of every live plan of the enrolment's plan type (keys de-duplicated)."""

    OBJECT_TYPE = None
    PLAN_TYPE = None

    def get_type_of_object(self):
        return self.OBJECT_TYPE

    def load_definition(self, tuple_type=None, uuid=None, benefitPlan=None, **kwargs):
        from core.gql.filters import parse_uuid
        from social_protection.models import BenefitPlan

        tuple_type = tuple_type or CustomFilterDefinition
        plans = BenefitPlan.objects.filter(is_deleted=False, beneficiary_data_schema__isnull=False)
        plan_ref = uuid or benefitPlan
        if plan_ref:
            plans = plans.filter(id=parse_uuid(plan_ref))
        else:
            plans = plans.filter(type=self.PLAN_TYPE)
        seen, possible = set(), []
        for schema in plans.values_list("beneficiary_data_schema", flat=True):
            for item in filters_from_json_schema(schema):
                if item not in seen:
                    seen.add(item)
                    possible.append(item)
        return [tuple_type(type=self.OBJECT_TYPE, code=self.OBJECT_TYPE, object_class_name=self.OBJECT_TYPE,
                           possible_filters=possible)]

    def apply_filter_to_queryset(self, custom_filters, query, relation=None):
        return query.filter(custom_filter_q(custom_filters, relation=relation))


class BeneficiaryCustomFilterWizard(_EnrolmentCustomFilterWizard):
    """Module ``social_protection``, object ``Beneficiary`` (enrolments of individual plans)."""

    OBJECT_TYPE = "Beneficiary"
    PLAN_TYPE = "INDIVIDUAL"


class GroupBeneficiaryCustomFilterWizard(_EnrolmentCustomFilterWizard):
    """Module ``social_protection``, object ``GroupBeneficiary`` (enrolments of group plans)."""

    OBJECT_TYPE = "GroupBeneficiary"
    PLAN_TYPE = "GROUP"


def criteria_list(criteria):
    """``advanced_criteria`` entries (dicts or strings, possibly a JSON string) → list of filter items."""
    if isinstance(criteria, str):
        try:
            criteria = json.loads(criteria)
        except ValueError:
            criteria = [criteria]
    if isinstance(criteria, dict):
        criteria = [criteria]
    return [c for c in (criteria or []) if c]
