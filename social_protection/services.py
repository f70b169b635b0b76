"""Services of social_protection: every write, its validation, its signals and its approval tasks."""
import datetime
import json
import logging

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from core.services import BaseService, check_authentication, output_exception, output_result_success
from core.signals import register_service_signal
from individual.models import (
    Group,
    GroupIndividual,
    Individual,
    IndividualDataSource,
    IndividualDataSourceUpload,
)
from social_protection.apps import SocialProtectionConfig
from social_protection.bulk import (
    audit_values,
    constant,
    insert_from_select,
    insert_history_rows,
    update_with_history,
    without_history,
)
from social_protection.models import (
    BeneficiaryStatus,
    BenefitPlan,
    BenefitPlanDataUploadRecords,
    Beneficiary,
    GroupBeneficiary,
)
from social_protection.validation import (
    BeneficiaryValidation,
    BenefitPlanValidation,
    GroupBeneficiaryValidation,
    parse_schema,
)
from tasks_management.apps import TasksManagementConfig
from tasks_management.models import Task
from tasks_management.services import (
    CheckerLogicServiceMixin,
    TaskService,
    UpdateCheckerLogicServiceMixin,
)
from tasks_management.utils import crud_business_data_builder

logger = logging.getLogger(__name__)

ENROLLMENT_WORKFLOW = "Enrollment"
HEAD = "HEAD"


# --- payload helpers ------------------------------------------------------------------------------
def _enum_value(value):
    return getattr(value, "value", value)


def to_datetime(value):
    """Date / ISO string / datetime → aware datetime (midnight in TIME_ZONE for dates); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            parsed_date = parse_date(value)
            if parsed_date is None:
                raise ValidationError(_("Invalid date %(value)s") % {"value": value})
            value = parsed_date
        else:
            value = parsed
    if isinstance(value, datetime.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, datetime.date):
        return timezone.make_aware(datetime.datetime.combine(value, datetime.time.min))
    raise ValidationError(_("Invalid date %(value)s") % {"value": value})


def _json_value(value, label):
    if isinstance(value, str):
        try:
            return json.loads(value) if value else None
        except ValueError:
            raise ValidationError(_("%(label)s is not valid JSON") % {"label": label})
    return value


def normalise_payload(data):
    """Enum members → values, dates → aware datetimes, JSON strings → JSON; used by every service."""
    data = {key: _enum_value(value) for key, value in dict(data).items()}
    for key in ("date_valid_from", "date_valid_to"):
        if key in data:
            data[key] = to_datetime(data[key])
    if "json_ext" in data:
        data["json_ext"] = _json_value(data["json_ext"], "json_ext")
    if "beneficiary_data_schema" in data:
        data["beneficiary_data_schema"] = parse_schema(data["beneficiary_data_schema"])
    for key in ("id", "benefit_plan_id", "individual_id", "group_id"):
        if data.get(key) is not None:
            data[key] = str(data[key])
    if data.get("date_valid_from", "") is None:
        data.pop("date_valid_from")  # keep the model default (now)
    return data


def _display_names(key, value):
    """Readable task data: ids → names (beneficiaries/individuals "First Last", plans "Benefit Plan X")."""
    if value in (None, ""):
        return value
    try:
        if key == "id":
            beneficiary = Beneficiary.objects.select_related("individual").filter(id=value).first()
            if beneficiary is not None:
                return str(beneficiary)
            group_beneficiary = GroupBeneficiary.objects.select_related("group").filter(id=value).first()
            if group_beneficiary is not None:
                return str(group_beneficiary)
            plan = BenefitPlan.objects.filter(id=value).first()
            return str(plan) if plan else value
        if key == "individual_id":
            individual = Individual.objects.filter(id=value).first()
            return f"{individual.first_name} {individual.last_name}" if individual else value
        if key == "group_id":
            group = Group.objects.filter(id=value).first()
            return group.code if group else value
        if key == "benefit_plan_id":
            plan = BenefitPlan.objects.filter(id=value).first()
            return str(plan) if plan else value
    except (ValueError, ValidationError):
        return value
    return value


class _NormalisingService(BaseService):
    def _adjust_create_payload(self, payload_data):
        return normalise_payload(payload_data)

    def _adjust_update_payload(self, payload_data):
        return normalise_payload(payload_data)

    def _business_data_serializer(self, data):
        return crud_business_data_builder(data, _display_names)

    # task creation validates the normalised payload, as the real operation will
    def create_create_task(self, obj_data):
        return super().create_create_task(self._safe_normalise(obj_data))

    def create_update_task(self, obj_data):
        return super().create_update_task(self._safe_normalise(obj_data))

    def _safe_normalise(self, obj_data):
        try:
            return normalise_payload(obj_data)
        except ValidationError:
            return obj_data  # the task-creation validation reports the problem


# --- benefit plans ---------------------------------------------------------------------------------
class BenefitPlanService(_NormalisingService, UpdateCheckerLogicServiceMixin):
    CHECKER_SOURCE = "BenefitPlanService"
    OBJECT_TYPE = BenefitPlan

    def __init__(self, user, validation_class=BenefitPlanValidation):
        super().__init__(user, validation_class)

    @register_service_signal("benefit_plan_service.create")
    def create(self, obj_data):
        return super().create(obj_data)

    @register_service_signal("benefit_plan_service.update")
    def update(self, obj_data):
        return super().update(obj_data)

    @register_service_signal("benefit_plan_service.delete")
    def delete(self, obj_data):
        return super().delete(obj_data)

    @register_service_signal("benefit_plan_service.close")
    @check_authentication
    def close_benefit_plan(self, obj_data):
        """Ask for the suspension of a plan: a task whose completion closes it and graduates everyone."""
        try:
            with transaction.atomic():
                plan = BenefitPlan.objects.filter(id=obj_data.get("id"), is_deleted=False).first()
                if plan is None:
                    raise ValidationError(_("BenefitPlan %(id)s does not exist") % {"id": obj_data.get("id")})
                result = TaskService(self.user).create({
                    "source": "BenefitPlanService",
                    "entity": plan,
                    "business_event": SocialProtectionConfig.benefit_plan_suspend,
                    "executor_action_event": TasksManagementConfig.default_executor_event,
                    "data": {"benefit_plan_id": str(plan.id)},
                })
                if not result.get("success"):
                    transaction.set_rollback(True)
                return result
        except Exception as exc:
            return output_exception(model_name="BenefitPlan", method="close", exception=exc)

    def apply_suspension(self, benefit_plan_id):
        """Completion of the suspend task: plan closed now, every live (group) beneficiary GRADUATED."""
        with transaction.atomic():
            plan = BenefitPlan.objects.select_for_update().get(id=benefit_plan_id)
            now = timezone.now()
            plan.date_valid_to = now
            plan.save(user=self.user)
            model = Beneficiary if plan.type == BenefitPlan.BenefitPlanType.INDIVIDUAL_TYPE else GroupBeneficiary
            queryset = model.objects.filter(benefit_plan=plan, is_deleted=False).exclude(
                status=BeneficiaryStatus.GRADUATED)
            count = update_with_history(model, queryset, {"status": BeneficiaryStatus.GRADUATED}, self.user, now,
                                        scope={"benefit_plan": plan})
            return output_result_success({"id": str(plan.id), "graduated": count})


# --- beneficiaries ---------------------------------------------------------------------------------
class BeneficiaryService(_NormalisingService, CheckerLogicServiceMixin):
    CHECKER_SOURCE = "BeneficiaryService"
    OBJECT_TYPE = Beneficiary

    def __init__(self, user, validation_class=BeneficiaryValidation):
        super().__init__(user, validation_class)

    @register_service_signal("beneficiary_service.create")
    def create(self, obj_data):
        return super().create(obj_data)

    @register_service_signal("beneficiary_service.update")
    def update(self, obj_data):
        return super().update(obj_data)

    @register_service_signal("beneficiary_service.delete")
    def delete(self, obj_data):
        return super().delete(obj_data)


class GroupBeneficiaryService(_NormalisingService, CheckerLogicServiceMixin):
    CHECKER_SOURCE = "GroupBeneficiaryService"
    OBJECT_TYPE = GroupBeneficiary

    def __init__(self, user, validation_class=GroupBeneficiaryValidation):
        super().__init__(user, validation_class)

    @register_service_signal("group_beneficiary_service.create")
    def create(self, obj_data):
        return super().create(obj_data)

    @register_service_signal("group_beneficiary_service.update")
    def update(self, obj_data):
        return super().update(obj_data)

    @register_service_signal("group_beneficiary_service.delete")
    def delete(self, obj_data):
        return super().delete(obj_data)


# --- enrolment -------------------------------------------------------------------------------------
def _head_memberships():
    return GroupIndividual.objects.filter(role=HEAD, is_deleted=False, individual__is_deleted=False)


class EnrollmentService:
    """Set-based enrolment of selected individuals / groups into a plan (spec §4.4).

    Every write is an ``INSERT … SELECT`` (plus one for its history rows), so the number of SQL
    statements does not depend on how many individuals are enrolled.
    """

    def __init__(self, user):
        self.user = user

    # ---- entry points (bound to individual's selection signals) ----
    def enroll_individuals(self, individuals, benefit_plan_id, status, maker_checker=None):
        return self._enroll(individuals, benefit_plan_id, status, maker_checker, group=False)

    def enroll_groups(self, groups, benefit_plan_id, status, maker_checker=None):
        return self._enroll(groups, benefit_plan_id, status, maker_checker, group=True)

    def _enroll(self, selection, benefit_plan_id, status, maker_checker, group):
        if self.user is None or not getattr(self.user, "is_authenticated", False):
            raise ValidationError(_("Authentication required"))
        if maker_checker is None:
            maker_checker = bool(SocialProtectionConfig.enable_maker_checker_logic_enrollment)
        status = _enum_value(status)
        if status not in BeneficiaryStatus.values:
            raise ValidationError(_("Invalid beneficiary status %(status)s") % {"status": status})
        with transaction.atomic():
            plan = self._locked_plan(benefit_plan_id, group)
            if maker_checker:
                return self._create_enrollment_task(selection, plan, status, group)
            now = timezone.now()
            count = (self._insert_group_beneficiaries if group else self._insert_beneficiaries)(
                selection, plan, status, now)
            return {"enrolled": count, "benefit_plan_id": str(plan.id), "status": status}

    def _locked_plan(self, benefit_plan_id, group):
        plan = None
        try:
            plan = BenefitPlan.objects.select_for_update().filter(id=benefit_plan_id, is_deleted=False).first()
        except (ValueError, ValidationError):
            pass
        if plan is None:
            raise ValidationError(_("BenefitPlan %(id)s does not exist") % {"id": benefit_plan_id})
        expected = BenefitPlan.BenefitPlanType.GROUP_TYPE if group else BenefitPlan.BenefitPlanType.INDIVIDUAL_TYPE
        if plan.type != expected:
            raise ValidationError(_("Group beneficiary must be associated with a benefit plan type = GROUP.") if group
                                  else _("Beneficiary must be associated with an individual benefit plan."))
        return plan

    # ---- direct path ----
    def _insert_beneficiaries(self, individuals, plan, status, now):
        candidates = Individual.objects.filter(id__in=individuals.order_by().values("id"), is_deleted=False).exclude(
            Exists(Beneficiary.objects.filter(individual_id=OuterRef("id"), benefit_plan=plan, is_deleted=False)))
        meta = Beneficiary._meta
        values = {
            **audit_values(Beneficiary, self.user, now),
            "date_valid_from": constant(now, meta.get_field("date_valid_from")),
            "individual": _col("id"),
            "benefit_plan": constant(plan.id, meta.get_field("id")),
            "status": constant(status, meta.get_field("status")),
            "json_ext": _col("json_ext"),
        }
        count = insert_from_select(Beneficiary, candidates, values)
        if count:
            created = without_history(Beneficiary, Beneficiary.objects.filter(
                benefit_plan=plan, date_created=now, user_created=self.user))
            insert_history_rows(Beneficiary, created, "+", self.user, now)
        return count

    def _insert_group_beneficiaries(self, groups, plan, status, now):
        heads = _head_memberships().filter(group_id=OuterRef("id"))
        candidates = (Group.objects.filter(id__in=groups.order_by().values("id"), is_deleted=False)
                      .filter(Exists(heads))
                      .exclude(Exists(GroupBeneficiary.objects.filter(group_id=OuterRef("id"), benefit_plan=plan,
                                                                      is_deleted=False))))
        meta = GroupBeneficiary._meta
        values = {
            **audit_values(GroupBeneficiary, self.user, now),
            "date_valid_from": constant(now, meta.get_field("date_valid_from")),
            "group": _col("id"),
            "benefit_plan": constant(plan.id, meta.get_field("id")),
            "status": constant(status, meta.get_field("status")),
            "json_ext": Subquery(heads.order_by("date_created", "id").values("individual__json_ext")[:1],
                                 output_field=meta.get_field("json_ext")),
        }
        count = insert_from_select(GroupBeneficiary, candidates, values)
        if count:
            created = without_history(GroupBeneficiary, GroupBeneficiary.objects.filter(
                benefit_plan=plan, date_created=now, user_created=self.user))
            insert_history_rows(GroupBeneficiary, created, "+", self.user, now)
        return count

    # ---- maker-checker path ----
    def _create_enrollment_task(self, selection, plan, status, group):
        now = timezone.now()
        upload = IndividualDataSourceUpload(
            source_name=f"Enrollment into {plan.code} {timezone.localdate(now).isoformat()}",
            source_type="beneficiary group import" if group else "beneficiary import",
            status=IndividualDataSourceUpload.Status.WAITING_FOR_VERIFICATION,
        )
        upload.save(user=self.user)
        record = BenefitPlanDataUploadRecords(data_upload=upload, benefit_plan=plan, workflow=ENROLLMENT_WORKFLOW,
                                              json_ext={"group_aggregation_column": None})
        record.save(user=self.user)
        if group:
            # one data source per HEAD member of each selected group not yet in the plan
            source = (_head_memberships()
                      .filter(group_id__in=selection.order_by().values("id"), group__is_deleted=False)
                      .exclude(Exists(GroupBeneficiary.objects.filter(group_id=OuterRef("group_id"),
                                                                      benefit_plan=plan, is_deleted=False))))
            individual_col, json_col = _col("individual_id"), _col("individual__json_ext")
        else:
            source = Individual.objects.filter(id__in=selection.order_by().values("id"), is_deleted=False).exclude(
                Exists(Beneficiary.objects.filter(individual_id=OuterRef("id"), benefit_plan=plan, is_deleted=False)))
            individual_col, json_col = _col("id"), _col("json_ext")
        meta = IndividualDataSource._meta
        count = insert_from_select(IndividualDataSource, source, {
            **audit_values(IndividualDataSource, self.user, now),
            "individual": individual_col,
            "upload": constant(upload.id, meta.get_field("id")),
            "validations": constant({}, meta.get_field("validations")),
            "json_ext": json_col,
        })
        if count:
            insert_history_rows(IndividualDataSource, IndividualDataSource.objects.filter(upload=upload), "+",
                                self.user, now)
        event = (SocialProtectionConfig.validation_group_enrollment if group
                 else SocialProtectionConfig.validation_enrollment)
        result = TaskService(self.user).create({
            "source": "import_valid_items",
            "entity_type": ContentType.objects.get_for_model(BenefitPlanDataUploadRecords),
            "entity_id": str(record.id),
            "status": Task.Status.RECEIVED,
            "executor_action_event": TasksManagementConfig.default_executor_event,
            "business_event": event,
            "json_ext": {
                "source_name": upload.source_name,
                "workflow": record.workflow,
                "percentage_of_invalid_items": 0,  # every selected record is valid by construction
                "data_upload_id": str(upload.id),
                "benefit_plan_id": str(plan.id),
                "benefit_plan_code": plan.code,
                "beneficiary_status": status,
                "number_of_records": count,
            },
        })
        if not result.get("success"):
            raise ValidationError(result.get("detail") or result.get("message"))
        return {"task_id": result["data"]["id"], "upload_id": str(upload.id),
                "upload_record_id": str(record.id), "records": count, "benefit_plan_id": str(plan.id),
                "status": status}

    def complete_enrollment_task(self, task):
        """``task`` (dict of the completed/failed task): enrol the upload's records, or mark it FAIL."""
        record = (BenefitPlanDataUploadRecords.objects.select_related("data_upload", "benefit_plan")
                  .filter(id=task.get("entity_id")).first())
        if record is None:
            logger.error("Enrollment task %s points to no upload record", task.get("id"))
            return [_("Upload record %(id)s not found") % {"id": task.get("entity_id")}]
        upload = record.data_upload
        group = task.get("business_event") == SocialProtectionConfig.validation_group_enrollment
        if task.get("status") != Task.Status.COMPLETED:
            self._mark_upload(upload, IndividualDataSourceUpload.Status.FAIL,
                              {"Task Resolve": _("Enrollment rejected by the checker")})
            return None
        status = (task.get("json_ext") or {}).get("beneficiary_status") or BeneficiaryStatus.POTENTIAL
        try:
            with transaction.atomic():
                plan = self._locked_plan(record.benefit_plan_id, group)
                linked = IndividualDataSource.objects.filter(upload=upload, is_deleted=False,
                                                             individual__isnull=False).values("individual_id")
                now = timezone.now()
                if group:
                    groups = Group.objects.filter(Exists(_head_memberships().filter(
                        group_id=OuterRef("id"), individual_id__in=linked)))
                    count = self._insert_group_beneficiaries(groups, plan, status, now)
                else:
                    count = self._insert_beneficiaries(Individual.objects.filter(id__in=linked), plan, status, now)
                self._mark_upload(upload, IndividualDataSourceUpload.Status.SUCCESS, {})
                logger.info("Enrollment task %s: %s enrolled into %s", task.get("id"), count, plan.code)
                return None
        except ValidationError as exc:
            self._mark_upload(upload, IndividualDataSourceUpload.Status.FAIL, {"Task Resolve": "; ".join(exc.messages)})
            return exc.messages
        except Exception as exc:  # logged in full, reported generically
            logger.exception("Enrollment of upload %s failed", upload.id)
            self._mark_upload(upload, IndividualDataSourceUpload.Status.FAIL,
                              {"Task Resolve": _("Enrollment failed (%(type)s)") % {"type": exc.__class__.__name__}})
            return [exc.__class__.__name__]

    def _mark_upload(self, upload, status, error):
        upload.refresh_from_db()
        upload.status = status
        upload.error = error
        try:
            upload.save(user=self.user)
        except ValidationError:  # no change
            pass


def _col(name):
    return F(name)
