"""Services of social_protection: every write, its validation, its signals and its approval tasks.

Service methods raise business errors; the registered service signal (or ``service_operation``) is the boundary
that answers the openIMIS result dict. The individual registry is reached through ``individual.selectors``
(reads) and ``individual.services`` (writes), tasks through ``tasks_management.services``.
"""
import datetime
import json
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from core import bulk
from core.errors import ensure_success
from core.services import BaseService, output_result_success, service_operation
from core.signals import register_service_signal
from individual.selectors import has_head, head_memberships, individuals, upload_individual_ids
from individual.selectors import groups as registry_groups
from individual.services import (
    ENROLMENT_SELECTION_KEY,
    IndividualDataSourceUploadService,
    UploadStatus,
    enrolment_selection_of_upload,
)
from social_protection.apps import SocialProtectionConfig
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
from tasks_management.services import (
    CheckerLogicServiceMixin,
    TaskService,
    TaskStatus,
    UpdateCheckerLogicServiceMixin,
    default_executor_event,
)

logger = logging.getLogger(__name__)

ENROLLMENT_WORKFLOW = "Enrollment"


# --- extension point: payment plans (implemented by a payment module) ----------------------------------
_payment_plans = None


def register_payment_plans(live_payment_plans):
    """``live_payment_plans()`` → a queryset of the live payment plans, with a ``benefit_plan_id`` column: a
    plan referenced by one answers ``hasPaymentPlans: true``. Called in the payment module's ``ready()``."""
    global _payment_plans
    _payment_plans = live_payment_plans


def payment_plans():
    """The live payment plans (a queryset), or None when no payment module registered them."""
    return _payment_plans() if _payment_plans is not None else None


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


class _NormalisingService(BaseService):
    """CRUD with normalised payloads (enums, dates, JSON strings)."""

    def _adjust_create_payload(self, payload_data):
        return normalise_payload(payload_data)

    def _adjust_update_payload(self, payload_data):
        return normalise_payload(payload_data)

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


class BenefitPlanService(_NormalisingService, UpdateCheckerLogicServiceMixin,
                         signals="benefit_plan_service"):
    CHECKER_SOURCE = "BenefitPlanService"
    BUSINESS_DATA_SERIALIZER = "social_protection.BenefitPlanService"
    OBJECT_TYPE, VALIDATION = BenefitPlan, BenefitPlanValidation

    @register_service_signal("benefit_plan_service.close")
    def close_benefit_plan(self, obj_data):
        """Ask for the suspension of a plan: a task whose completion closes it and graduates everyone."""
        plan = BenefitPlan.objects.filter(id=obj_data.get("id"), is_deleted=False).first()
        if plan is None:
            raise ValidationError(_("BenefitPlan %(id)s does not exist") % {"id": obj_data.get("id")})
        return TaskService(self.user).create({
            "source": self.CHECKER_SOURCE,
            "entity": plan,
            "business_event": SocialProtectionConfig.benefit_plan_suspend,
            "executor_action_event": default_executor_event(),
            "data": {"benefit_plan_id": str(plan.id)},
        })

    @service_operation("close")
    def apply_suspension(self, benefit_plan_id):
        """Completion of the suspend task: plan closed now, every live (group) beneficiary GRADUATED."""
        plan = BenefitPlan.objects.select_for_update().get(id=benefit_plan_id)
        now = timezone.now()
        plan.date_valid_to = now
        plan.save(user=self.user)
        model = Beneficiary if plan.type == BenefitPlan.BenefitPlanType.INDIVIDUAL_TYPE else GroupBeneficiary
        queryset = model.objects.filter(benefit_plan=plan, is_deleted=False).exclude(
            status=BeneficiaryStatus.GRADUATED)
        count = bulk.update_with_history(queryset, {"status": BeneficiaryStatus.GRADUATED}, user=self.user, now=now)
        return output_result_success({"id": str(plan.id), "graduated": count})


# --- beneficiaries ---------------------------------------------------------------------------------
class BeneficiaryService(_NormalisingService, CheckerLogicServiceMixin, signals="beneficiary_service"):
    CHECKER_SOURCE = "BeneficiaryService"
    BUSINESS_DATA_SERIALIZER = "social_protection.BeneficiaryService"
    OBJECT_TYPE, VALIDATION = Beneficiary, BeneficiaryValidation


class GroupBeneficiaryService(_NormalisingService, CheckerLogicServiceMixin,
                              signals="group_beneficiary_service"):
    CHECKER_SOURCE = "GroupBeneficiaryService"
    BUSINESS_DATA_SERIALIZER = "social_protection.GroupBeneficiaryService"
    OBJECT_TYPE, VALIDATION = GroupBeneficiary, GroupBeneficiaryValidation


# --- enrolment -------------------------------------------------------------------------------------
def _not_in_plan(model, plan, member_ref):
    """Rows whose member (``member_ref`` of the source row) is not a live beneficiary of ``plan`` yet."""
    member = "individual_id" if model is Beneficiary else "group_id"
    return ~Exists(model.objects.filter(**{member: OuterRef(member_ref)}, benefit_plan=plan, is_deleted=False))


class EnrollmentService:
    """Set-based enrolment of selected individuals / groups into a plan (spec §4.4).

    Every write is an ``INSERT … SELECT`` with its history rows (``core.bulk``), so the number of SQL
    statements does not depend on how many individuals are enrolled. With maker-checker, a selection made by
    criteria (``criteria``: ``individual.services.EnrolmentSelection``, what the confirm mutations give) is
    stored on its upload with a snapshot time — no row per selected individual — and re-run by the approval.
    """

    def __init__(self, user):
        self.user = user

    # ---- entry points (bound to individual's selection signals) ----
    def enroll_individuals(self, individuals, benefit_plan_id, status, maker_checker=None, criteria=None):
        return self._enroll(individuals, benefit_plan_id, status, maker_checker, group=False, criteria=criteria)

    def enroll_groups(self, groups, benefit_plan_id, status, maker_checker=None, criteria=None):
        return self._enroll(groups, benefit_plan_id, status, maker_checker, group=True, criteria=criteria)

    def _enroll(self, selection, benefit_plan_id, status, maker_checker, group, criteria=None):
        if self.user is None or not getattr(self.user, "is_authenticated", False):
            raise ValidationError(_("Authentication required"))
        if maker_checker is None:
            maker_checker = bool(SocialProtectionConfig.enable_maker_checker_logic_enrollment)
        status = _enum_value(status)
        if status not in BeneficiaryStatus.values:
            raise ValidationError(_("Invalid beneficiary status %(status)s") % {"status": status})
        with transaction.atomic():  # the plan row stays locked until every row of the enrolment is written
            plan = self._locked_plan(benefit_plan_id, group)
            if maker_checker:
                return self._create_enrollment_task(selection, plan, status, group, criteria)
            count = (self._insert_group_beneficiaries if group else self._insert_beneficiaries)(
                selection, plan, status, timezone.now())
            return {"enrolled": count, "benefit_plan_id": str(plan.id), "status": status}

    def _locked_plan(self, benefit_plan_id, group):
        plan = None
        try:
            plan = BenefitPlan.objects.select_for_update().filter(id=benefit_plan_id, is_deleted=False).first()
        except (ValueError, ValidationError):
            pass
        if plan is None:
            raise ValidationError(_("BenefitPlan %(id)s does not exist") % {"id": benefit_plan_id})
        model = GroupBeneficiary if group else Beneficiary
        if plan.type != model.PLAN_TYPE:
            raise ValidationError(model.TYPE_ERROR)
        return plan

    @staticmethod
    def _candidates(selection, plan, group):
        """The selected live individuals (groups with a head) not yet in the plan, in one pass: a selection of
        registry rows without joins is filtered as it is (no ``id IN (selection)`` re-join, no DISTINCT)."""
        registry = registry_groups() if group else individuals()
        query = selection.query
        if selection.model is registry.model and not query.is_sliced and not query.distinct \
                and len(query.alias_map) <= 1 and query.group_by is None:
            rows = selection.filter(is_deleted=False)  # one row per registry row: no join can repeat it
        else:
            rows = registry.filter(id__in=selection.order_by().values("id"), is_deleted=False)
        if group:
            rows = rows.filter(has_head())
        return rows.filter(_not_in_plan(GroupBeneficiary if group else Beneficiary, plan, "id"))

    def _insert(self, model, member, rows, plan, status, now, json_ext):
        return bulk.insert_from_select(model, rows, {
            member: F("id"),
            "benefit_plan": bulk.constant(plan.id, model, "benefit_plan"),
            "status": bulk.constant(status, model, "status"),
            "json_ext": json_ext,
        }, user=self.user, now=now)

    def _insert_beneficiaries(self, individuals, plan, status, now):
        return self._insert(Beneficiary, "individual", self._candidates(individuals, plan, False), plan, status, now,
                            F("json_ext"))

    def _insert_group_beneficiaries(self, groups, plan, status, now):
        heads = head_memberships().filter(group_id=OuterRef("id")).order_by("date_created", "id")
        head_json = Subquery(heads.values("individual__json_ext")[:1],
                             output_field=GroupBeneficiary._meta.get_field("json_ext"))
        return self._insert(GroupBeneficiary, "group", self._candidates(groups, plan, True), plan, status, now,
                            head_json)

    # ---- maker-checker path ----
    def _create_enrollment_task(self, selection, plan, status, group, criteria=None):
        """The upload, its record and ONE approval task. A selection by criteria is stored as its criteria and
        snapshot (``upload.json_ext["enrolment_selection"]``, also on the record and the task); a bare queryset
        (Python callers) cannot be stored, so its rows are staged as data sources of the upload."""
        now = timezone.now()
        if criteria is not None:
            criteria = criteria.taken_now(benefit_plan_id=plan.id, status=status)
            stored = criteria.as_json()
        uploads = IndividualDataSourceUploadService(self.user)
        upload = uploads.open_upload(
            source_name=f"Enrollment into {plan.code} {timezone.localdate(now).isoformat()}",
            source_type="beneficiary group import" if group else "beneficiary import",
            status=UploadStatus.WAITING_FOR_VERIFICATION,
            json_ext={ENROLMENT_SELECTION_KEY: stored} if criteria is not None else None)
        record = BenefitPlanDataUploadRecords(
            data_upload_id=upload.id, benefit_plan=plan, workflow=ENROLLMENT_WORKFLOW,
            json_ext={"group_aggregation_column": None,
                      **({ENROLMENT_SELECTION_KEY: stored} if criteria is not None else {})})
        record.save(user=self.user)
        if criteria is not None:
            count = criteria.to_enrol(self.user).count()  # the maker is the acting user
        elif group:
            # one data source per HEAD member of each selected group not yet in the plan
            source = (head_memberships().filter(group_id__in=selection.order_by().values("id"),
                                                group__is_deleted=False)
                      .filter(_not_in_plan(GroupBeneficiary, plan, "group_id")))
            count = uploads.add_sources(upload.id, source, individual=F("individual_id"),
                                        json_ext=F("individual__json_ext"), now=now)
        else:
            count = uploads.add_sources(upload.id, self._candidates(selection, plan, False), now=now)
        event = (SocialProtectionConfig.validation_group_enrollment if group
                 else SocialProtectionConfig.validation_enrollment)
        result = ensure_success(TaskService(self.user).create({
            "source": "import_valid_items",
            "entity": record,
            "status": TaskStatus.RECEIVED,
            "executor_action_event": default_executor_event(),
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
                **({ENROLMENT_SELECTION_KEY: stored} if criteria is not None else {}),
            },
        }))
        return {"task_id": result["data"]["id"], "upload_id": str(upload.id),
                "upload_record_id": str(record.id), "records": count, "benefit_plan_id": str(plan.id),
                "status": status}

    def complete_enrollment_task(self, task):
        """``task`` (dict of the completed/failed task): enrol the upload's records, or mark the upload FAIL."""
        record = BenefitPlanDataUploadRecords.objects.filter(id=task.get("entity_id")).first()
        if record is None:
            logger.error("Enrollment task %s points to no upload record", task.get("id"))
            return [_("Upload record %(id)s not found") % {"id": task.get("entity_id")}]
        uploads = IndividualDataSourceUploadService(self.user)
        if task.get("status") != TaskStatus.COMPLETED:
            uploads.set_status(record.data_upload_id, UploadStatus.FAIL,
                               {"Task Resolve": _("Enrollment rejected by the checker")})
            return None
        group = task.get("business_event") == SocialProtectionConfig.validation_group_enrollment
        status = (task.get("json_ext") or {}).get("beneficiary_status") or BeneficiaryStatus.POTENTIAL
        result = self.enrol_upload(record, group, status)
        if not result.get("success"):
            uploads.set_status(record.data_upload_id, UploadStatus.FAIL, {"Task Resolve": result.get("detail")})
            return [result.get("detail")]
        logger.info("Enrollment task %s: %s enrolled", task.get("id"), result["data"]["enrolled"])
        return None

    @service_operation("enroll")
    def enrol_upload(self, record, group, status):
        """The approved enrolment. A selection by criteria is re-run as its maker made it (row security) and as
        at its snapshot (see ``EnrolmentSelection``): the rows changed since are skipped and counted in the
        record's ``json_ext["enrolment_result"]``. Otherwise the upload's linked individuals (or their groups)."""
        plan = self._locked_plan(record.benefit_plan_id, group)
        now = timezone.now()
        _, criteria = enrolment_selection_of_upload(record.data_upload_id)
        skipped = None
        if criteria is not None:
            maker = criteria.user()
            if criteria.user_id and maker is None:
                raise ValidationError(_("The maker of this enrolment no longer exists"))
            rows = criteria.to_enrol(maker)
            skipped = criteria.changed(maker).count()
            insert = self._insert_group_beneficiaries if group else self._insert_beneficiaries
            count = insert(rows, plan, status, now)
        elif group:
            linked = upload_individual_ids(record.data_upload_id)
            selected = registry_groups().filter(Exists(head_memberships().filter(
                group_id=OuterRef("id"), individual_id__in=linked)))
            count = self._insert_group_beneficiaries(selected, plan, status, now)
        else:
            linked = upload_individual_ids(record.data_upload_id)
            count = self._insert_beneficiaries(individuals().filter(id__in=linked), plan, status, now)
        if skipped is not None:
            record.json_ext = {**(record.json_ext or {}), "enrolment_result": {
                "enrolled": count, "skipped_changed_after_snapshot": skipped, "approved_at": now.isoformat()}}
            record.save(user=self.user)
        IndividualDataSourceUploadService(self.user).set_status(record.data_upload_id, UploadStatus.SUCCESS, {})
        data = {"enrolled": count, "benefit_plan_id": str(plan.id)}
        if skipped is not None:
            data["skipped_changed_after_snapshot"] = skipped
        return output_result_success(data)
