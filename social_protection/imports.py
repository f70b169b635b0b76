"""Beneficiary uploads (social_protection.md §4.5–§4.7, §5): the individual module's upload engine, aimed at
a benefit plan. The rows are checked against the plan's schema; once approved, the individuals created are
enrolled as POTENTIAL beneficiaries (INDIVIDUAL plans) or grouped into households by the aggregation column
and the households enrolled (GROUP plans)."""
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils.translation import gettext as _

from core import bulk
from individual.services import ImportTarget, update_individuals
from social_protection.apps import SocialProtectionConfig
from social_protection.models import BenefitPlan, Beneficiary, BeneficiaryStatus, BenefitPlanDataUploadRecords

UPDATE_KEY = "ID"
CORE_COLUMNS = ("first_name", "last_name", "dob")


class BenefitPlanImportTarget(ImportTarget):
    noun = "beneficiaries"
    workflow_group = "socialProtection"
    source_type = "beneficiary import"
    record_model = BenefitPlanDataUploadRecords
    group_upload_checked = False  # the upload's approval covers the households it forms
    household_needs_head = True  # a group plan enrols households through their head

    def __init__(self, plan):
        self.plan = plan

    @classmethod
    def for_plan_id(cls, plan_id):
        plan = BenefitPlan.objects.filter(id=plan_id).first()
        if plan is None:
            raise ValidationError(_("Benefit Plan not found: %(id)s") % {"id": plan_id})
        return cls(plan)

    @classmethod
    def for_plan_code(cls, code):
        from individual.services import ImportRejected

        plan = BenefitPlan.objects.filter(code=code, is_deleted=False).first()
        if plan is None:
            raise ImportRejected(f"Benefit Plan not found: {code}")
        return cls(plan)

    @property
    def group_plan(self):
        return self.plan.type == BenefitPlan.BenefitPlanType.GROUP_TYPE

    def schema(self):
        schema = self.plan.beneficiary_data_schema
        return schema if isinstance(schema, dict) and schema.get("properties") else super().schema()

    def storage_path(self, filename):
        return f"beneficiary_upload/benefit_plan_{self.plan.id}/{filename}"

    def record_values(self):
        return {"benefit_plan": self.plan}

    def payload(self):
        return {"benefit_plan_uuid": str(self.plan.id)}

    def maker_checker(self, update):
        return bool(SocialProtectionConfig.enable_maker_checker_for_beneficiary_update if update
                    else SocialProtectionConfig.enable_maker_checker_for_beneficiary_upload)

    def business_event(self, update):
        return (SocialProtectionConfig.validation_upload_valid_items if update
                else SocialProtectionConfig.validation_import_valid_items)

    def valid_items_workflow(self, update):
        return (SocialProtectionConfig.validation_upload_valid_items_workflow if update
                else SocialProtectionConfig.validation_import_valid_items_workflow)

    def task_json_ext(self):
        return {"benefit_plan_code": self.plan.code, "benefit_plan_id": str(self.plan.id)}

    def update_key_exists(self, ids):
        """An update file names beneficiaries of this plan (individual ones: their individual is updated)."""
        return {str(i) for i in Beneficiary.objects.filter(id__in=ids, benefit_plan=self.plan, is_deleted=False)
                .values_list("id", flat=True)}

    def apply_updates(self, rows, user, now):
        """Beneficiary json_ext merged with the row's schema attributes; the individual's names, dob and
        json_ext as for an individual update."""
        properties = set((self.schema() or {}).get("properties", {})) - set(CORE_COLUMNS)
        current = {str(b): (i, j) for b, i, j in Beneficiary.objects.filter(
            id__in=[row[UPDATE_KEY] for _, row in rows]).values_list("id", "individual_id", "json_ext")}
        beneficiaries, individuals = [], []
        for ds_id, row in rows:
            individual_id, json_ext = current[row[UPDATE_KEY]]
            merged = {**(json_ext or {}), **{k: v for k, v in row.items() if k in properties}}
            beneficiaries.append({"id": row[UPDATE_KEY], "json_ext": merged})
            individuals.append((ds_id, individual_id, row))
        bulk.update_rows(Beneficiary, beneficiaries, fields=["json_ext"], user=user, now=now)
        return update_individuals(individuals, user, now)

    def after_update(self, groups, user, now):
        """Households an update formed join a GROUP plan as its other households did."""
        if self.group_plan and not groups.query.is_empty():
            from social_protection.services import EnrollmentService

            return EnrollmentService(user)._insert_group_beneficiaries(groups, self.plan, BeneficiaryStatus.POTENTIAL,
                                                                       now)
        return None

    def after_create(self, individuals, groups, user, now):
        """Enrol what the run created: the individuals (INDIVIDUAL plan) or their households (GROUP plan)."""
        from social_protection.services import EnrollmentService

        enrolment = EnrollmentService(user)
        status = BeneficiaryStatus.POTENTIAL
        if self.group_plan:
            if groups.query.is_empty():  # a run that formed no household (its SQL could not be compiled)
                return 0
            return enrolment._insert_group_beneficiaries(groups, self.plan, status, now)
        return bulk.insert_from_select(Beneficiary, individuals, {
            "individual": F("id"),
            "benefit_plan": bulk.constant(self.plan.id, Beneficiary, "benefit_plan"),
            "status": bulk.constant(status, Beneficiary, "status"),
            "json_ext": F("json_ext"),
        }, user=user, now=now)
