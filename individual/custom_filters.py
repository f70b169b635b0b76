"""Custom-filter wizards: the JSON attributes the frontend offers as advanced filters (spec §3)."""
from core.custom_filters import CustomFilterDefinition, CustomFilterWizardInterface, filters_from_json_schema
from core.gql.filters import parse_uuid
from individual.apps import IndividualConfig


class _SchemaWizard(CustomFilterWizardInterface):
    OBJECT_TYPE = None

    def get_type_of_object(self):
        return self.OBJECT_TYPE

    def _schema(self, **kwargs):
        return IndividualConfig.get_individual_schema()

    def load_definition(self, tuple_type, **kwargs):
        return [CustomFilterDefinition(type=self.OBJECT_TYPE, code=self.OBJECT_TYPE, object_class_name=self.OBJECT_TYPE,
                                       possible_filters=filters_from_json_schema(self._schema(**kwargs)))]


class IndividualCustomFilterWizard(_SchemaWizard):
    OBJECT_TYPE = "Individual"

    def _schema(self, benefitPlan=None, **kwargs):
        """With ``additionalParams.benefitPlan`` the plan's beneficiary_data_schema is offered instead (the
        programme module answers it, see ``individual.services.Programmes``)."""
        plan_id = parse_uuid(benefitPlan) if benefitPlan else None
        if plan_id is not None:
            from individual.services import programmes

            schema = programmes().plan_schema(plan_id)
            if schema is not None:
                return schema
        return super()._schema(**kwargs)


class GroupCustomFilterWizard(_SchemaWizard):
    OBJECT_TYPE = "Group"


class GroupIndividualCustomFilterWizard(_SchemaWizard):
    OBJECT_TYPE = "GroupIndividual"
