"""Service behaviours (upstream tests re-covered) and validation errors."""
import pytest

from social_protection.models import BenefitPlan, Beneficiary, GroupBeneficiary
from social_protection.services import BeneficiaryService, BenefitPlanService, GroupBeneficiaryService

from tests.social_protection.factories import SCHEMA

pytestmark = pytest.mark.django_db

PLAN = {"code": "SRV01", "name": "Service plan", "max_beneficiaries": 10, "type": "INDIVIDUAL",
        "beneficiary_data_schema": SCHEMA, "date_valid_from": "2024-01-01", "date_valid_to": "2025-12-31"}


def test_create_plan_with_schema(admin_user):
    result = BenefitPlanService(admin_user).create(PLAN)
    assert result["success"], result
    plan = BenefitPlan.objects.get(id=result["data"]["id"])
    assert plan.beneficiary_data_schema == SCHEMA
    assert plan.history.count() == 1
    assert str(plan) == "Benefit Plan SRV01"


def test_create_plan_without_json_ext_and_schema_as_string(admin_user):
    import json

    result = BenefitPlanService(admin_user).create({**PLAN, "beneficiary_data_schema": json.dumps(SCHEMA)})
    assert result["success"], result
    assert BenefitPlan.objects.get(id=result["data"]["id"]).json_ext is None


def test_update_and_delete_plan(admin_user):
    plan_id = BenefitPlanService(admin_user).create(PLAN)["data"]["id"]
    result = BenefitPlanService(admin_user).update({"id": plan_id, "name": "Renamed"})
    assert result["success"], result
    assert BenefitPlan.objects.get(id=plan_id).name == "Renamed"
    assert BenefitPlanService(admin_user).delete({"id": plan_id})["success"]
    assert BenefitPlan.objects.filter(id=plan_id, is_deleted=False).count() == 0
    assert BenefitPlan.objects.filter(id=plan_id, is_deleted=True).count() == 1


@pytest.mark.parametrize("field, message", [("code", "BenefitPlan code SRV01 already exists"),
                                            ("name", "BenefitPlan name Service plan already exists")])
def test_duplicate_code_or_name_fails(admin_user, field, message):
    assert BenefitPlanService(admin_user).create(PLAN)["success"]
    other = {**PLAN, "code": "SRV02", "name": "Other"}
    other[field] = PLAN[field]
    result = BenefitPlanService(admin_user).create(other)
    assert not result["success"]
    assert message in result["detail"]
    assert BenefitPlan.objects.filter(**{field: PLAN[field]}).count() == 1


def test_empty_code_and_name_reported_together(admin_user):
    result = BenefitPlanService(admin_user).create({**PLAN, "code": "", "name": " "})
    assert not result["success"]
    assert "code can't be empty" in result["detail"] and "name can't be empty" in result["detail"]


@pytest.mark.parametrize("schema, message", [
    ({"properties": {"x": {"type": "string", "maxLength": "abc"}}}, "Schema is not valid"),
    ("{not json", "Schema json is not valid"),
])
def test_invalid_schema_fails(admin_user, schema, message):
    result = BenefitPlanService(admin_user).create({**PLAN, "beneficiary_data_schema": schema})
    assert not result["success"]
    assert message in result["detail"]
    assert not BenefitPlan.objects.exists()


def test_draft_2019_09_schema_uri_is_accepted(admin_user):
    schema = {"$schema": "https://json-schema.org/draft/2019-09/schema", "type": "object",
              "properties": {"educated_level": {"type": "string"}}}
    assert BenefitPlanService(admin_user).create({**PLAN, "beneficiary_data_schema": schema})["success"]


def test_date_range_checked(admin_user):
    result = BenefitPlanService(admin_user).create({**PLAN, "date_valid_to": "2023-01-01"})
    assert not result["success"]
    assert "date_valid_to can't be earlier" in result["detail"]


def test_update_keeps_own_code(admin_user):
    plan_id = BenefitPlanService(admin_user).create(PLAN)["data"]["id"]
    result = BenefitPlanService(admin_user).update({"id": plan_id, "code": "SRV01", "description": "x"})
    assert result["success"], result


def test_beneficiary_crud(admin_user, make_plan, make_individual):
    plan = make_plan()
    individual = make_individual(children=2)
    service = BeneficiaryService(admin_user)
    result = service.create({"individual_id": individual.id, "benefit_plan_id": plan.id, "status": "POTENTIAL",
                             "json_ext": {"number_of_children": 2}})
    assert result["success"], result
    beneficiary_id = result["data"]["id"]
    assert service.update({"id": beneficiary_id, "status": "ACTIVE"})["success"]
    assert Beneficiary.objects.get(id=beneficiary_id).status == "ACTIVE"
    assert service.delete({"id": beneficiary_id})["success"]
    assert Beneficiary.objects.get(id=beneficiary_id).is_deleted
    assert Beneficiary.history.filter(id=beneficiary_id).count() == 3


def test_beneficiary_json_ext_validated_per_field(admin_user, make_plan, make_individual):
    plan = make_plan()
    individual = make_individual()
    result = BeneficiaryService(admin_user).create({
        "individual_id": individual.id, "benefit_plan_id": plan.id, "status": "POTENTIAL",
        "json_ext": {"number_of_children": "many", "educated_level": 3}})
    assert not result["success"]
    assert "json_ext.educated_level: 3 is not of type \"string\"" in result["detail"]
    assert "json_ext.number_of_children: \"many\" is not of type \"integer\"" in result["detail"]
    assert not Beneficiary.objects.exists()


def test_beneficiary_needs_individual_plan(admin_user, make_plan, make_individual):
    plan = make_plan(code="GRP", type="GROUP")
    result = BeneficiaryService(admin_user).create({"individual_id": make_individual().id,
                                                    "benefit_plan_id": plan.id, "status": "POTENTIAL"})
    assert not result["success"]
    assert "Beneficiary must be associated with an individual benefit plan." in result["detail"]


def test_beneficiary_enrolled_once_per_plan(admin_user, make_plan, make_individual):
    plan, individual = make_plan(), make_individual()
    payload = {"individual_id": individual.id, "benefit_plan_id": plan.id, "status": "POTENTIAL"}
    assert BeneficiaryService(admin_user).create(payload)["success"]
    result = BeneficiaryService(admin_user).create(payload)
    assert not result["success"] and "already enrolled" in result["detail"]


def test_group_beneficiary_crud(admin_user, make_plan, make_individual, make_group):
    plan = make_plan(code="GRP", type="GROUP")
    group = make_group("G1", [(make_individual(), "HEAD")])
    service = GroupBeneficiaryService(admin_user)
    result = service.create({"group_id": group.id, "benefit_plan_id": plan.id, "status": "POTENTIAL"})
    assert result["success"], result
    assert service.update({"id": result["data"]["id"], "status": "ACTIVE"})["success"]
    assert GroupBeneficiary.objects.get(id=result["data"]["id"]).status == "ACTIVE"
    assert service.delete({"id": result["data"]["id"]})["success"]
    individual_plan = make_plan(code="IND")
    bad = service.create({"group_id": group.id, "benefit_plan_id": individual_plan.id, "status": "POTENTIAL"})
    assert not bad["success"]
    assert "Group beneficiary must be associated with a benefit plan type = GROUP." in bad["detail"]


def test_anonymous_service_call_refused(make_plan):
    from django.contrib.auth.models import AnonymousUser

    result = BenefitPlanService(AnonymousUser()).create(PLAN)
    assert result == {"success": False, "message": "Authentication required", "detail": "PermissionDenied"}
