"""Validation of benefit plans and of beneficiary attributes against the plan's JSON Schema."""
import json

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core import json_schema
from core.validation import BaseModelValidation
from individual.selectors import groups as registry_groups
from individual.selectors import individuals as registry_individuals
from social_protection.models import BenefitPlan, Beneficiary, GroupBeneficiary


def parse_schema(schema):
    """A schema given as a JSON string or a dict → dict; raises "Schema json is not valid …"."""
    if schema is None or schema == "":
        return None
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except ValueError as exc:
            raise ValidationError(_("Schema json is not valid %(error)s") % {"error": exc})
    return schema


def schema_errors(schema):
    """[] when ``schema`` passes the Draft-7 meta-schema check, else one message."""
    try:
        schema = parse_schema(schema)
    except ValidationError as exc:
        return exc.messages
    if schema is None:
        return []
    if not isinstance(schema, dict):
        return [_("Schema is not valid %(error)s") % {"error": "a JSON Schema must be an object"}]
    reason = json_schema.check_schema(schema)
    if reason:
        return [_("Schema is not valid %(error)s") % {"error": reason}]
    return []


def json_ext_errors(schema, json_ext):
    """One message per failing attribute of ``json_ext`` against the plan's schema (sorted by field)."""
    if json_ext is not None and not isinstance(json_ext, dict):
        return [_("json_ext must be a JSON object")]
    if not isinstance(schema, dict) or not schema or json_ext is None:
        return []
    errors = []
    for path, message in json_schema.errors(schema, json_ext):
        field = f"json_ext.{path}" if path else "json_ext"
        errors.append((field, f"{field}: {message}"))
    return [message for _, message in sorted(errors)]


class BenefitPlanValidation(BaseModelValidation):
    OBJECT_TYPE = BenefitPlan

    @classmethod
    def validate_create(cls, user, **data):
        errors = cls._errors(data)
        if errors:
            raise ValidationError(errors)

    @classmethod
    def validate_update(cls, user, **data):
        plan = BenefitPlan.objects.filter(id=data.get("id")).first()
        if plan is None:
            raise ValidationError(_("BenefitPlan %(id)s does not exist") % {"id": data.get("id")})
        if plan.is_deleted:
            raise ValidationError(_("BenefitPlan %(id)s is deleted") % {"id": data.get("id")})
        errors = cls._errors(data, current=plan)
        if errors:
            raise ValidationError(errors)

    @classmethod
    def validate_delete(cls, user, **data):
        plan = BenefitPlan.objects.filter(id=data.get("id")).first()
        if plan is None:
            raise ValidationError(_("BenefitPlan %(id)s does not exist") % {"id": data.get("id")})

    @classmethod
    def _errors(cls, data, current=None):
        errors = []
        others = BenefitPlan.objects.filter(is_deleted=False)
        if current is not None:
            others = others.exclude(id=current.id)
        if current is None or "code" in data:
            code = data.get("code")
            if code is None or str(code).strip() == "":
                errors.append(_("code can't be empty"))
            elif others.filter(code=code).exists():
                errors.append(_("BenefitPlan code %(code)s already exists") % {"code": code})
        if current is None or "name" in data:
            name = data.get("name")
            if name is None or str(name).strip() == "":
                errors.append(_("name can't be empty"))
            elif others.filter(name=name).exists():
                errors.append(_("BenefitPlan name %(name)s already exists") % {"name": name})
        if data.get("beneficiary_data_schema") is not None:
            errors += schema_errors(data["beneficiary_data_schema"])
        if data.get("json_ext") is not None and not isinstance(data["json_ext"], dict):
            errors.append(_("json_ext must be a JSON object"))
        for field in ("ceiling_per_beneficiary", "max_beneficiaries"):
            value = data.get(field)
            try:
                negative = value is not None and value != "" and float(value) < 0
            except (TypeError, ValueError):
                negative = False  # not a number: the model validation names it
            if negative:
                errors.append(_("%(field)s can't be negative") % {"field": field})
        date_from = data.get("date_valid_from", current.date_valid_from if current else None)
        date_to = data.get("date_valid_to", current.date_valid_to if current else None)
        if date_from and date_to and date_to < date_from:
            errors.append(_("date_valid_to can't be earlier than date_valid_from"))
        return errors


class _BaseBeneficiaryValidation(BaseModelValidation):
    """Shared by Beneficiary (member field ``individual``) and GroupBeneficiary (``group``)."""

    MEMBER = None

    @classmethod
    def _plan(cls, plan_id):
        plan = BenefitPlan.objects.filter(id=plan_id).first() if plan_id else None
        if plan is None or plan.is_deleted:
            raise ValidationError(_("BenefitPlan %(id)s does not exist") % {"id": plan_id})
        return plan

    @classmethod
    def validate_create(cls, user, **data):
        errors = []
        plan = cls._plan(data.get("benefit_plan_id"))
        if plan.type != cls.OBJECT_TYPE.PLAN_TYPE:
            errors.append(cls.OBJECT_TYPE.TYPE_ERROR)
        member_id = data.get(f"{cls.MEMBER}_id")
        if member_id:
            errors += cls._member_errors(member_id)
        if member_id and cls.OBJECT_TYPE.objects.filter(
                **{f"{cls.MEMBER}_id": member_id}, benefit_plan=plan, is_deleted=False).exists():
            errors.append(_("%(member)s %(id)s is already enrolled in %(plan)s")
                          % {"member": cls.MEMBER.capitalize(), "id": member_id, "plan": plan})
        errors += json_ext_errors(plan.beneficiary_data_schema, data.get("json_ext"))
        if errors:
            raise ValidationError(errors)

    @classmethod
    def validate_update(cls, user, **data):
        obj = cls.OBJECT_TYPE.objects.filter(id=data.get("id")).first()
        if obj is None or obj.is_deleted:
            raise ValidationError(_("%(model)s %(id)s does not exist")
                                  % {"model": cls.OBJECT_TYPE.__name__, "id": data.get("id")})
        errors = []
        plan_id = data.get("benefit_plan_id") or obj.benefit_plan_id
        plan = cls._plan(plan_id)
        if plan.type != cls.OBJECT_TYPE.PLAN_TYPE:
            errors.append(cls.OBJECT_TYPE.TYPE_ERROR)
        member_id = data.get(f"{cls.MEMBER}_id") or getattr(obj, f"{cls.MEMBER}_id")
        if data.get(f"{cls.MEMBER}_id") and str(member_id) != str(getattr(obj, f"{cls.MEMBER}_id")):
            errors += cls._member_errors(member_id)
        if str(plan.id) != str(obj.benefit_plan_id) or str(member_id) != str(getattr(obj, f"{cls.MEMBER}_id")):
            if cls.OBJECT_TYPE.objects.filter(**{f"{cls.MEMBER}_id": member_id}, benefit_plan=plan,
                                              is_deleted=False).exclude(id=obj.id).exists():
                errors.append(_("%(member)s %(id)s is already enrolled in %(plan)s")
                              % {"member": cls.MEMBER.capitalize(), "id": member_id, "plan": plan})
        json_ext = data.get("json_ext", obj.json_ext if "benefit_plan_id" in data else None)
        errors += json_ext_errors(plan.beneficiary_data_schema, json_ext)
        if errors:
            raise ValidationError(errors)

    @classmethod
    def validate_delete(cls, user, **data):
        obj = cls.OBJECT_TYPE.objects.filter(id=data.get("id")).first()
        if obj is None:
            raise ValidationError(_("%(model)s %(id)s does not exist")
                                  % {"model": cls.OBJECT_TYPE.__name__, "id": data.get("id")})

    @classmethod
    def _member_errors(cls, member_id):
        """A beneficiary is a live individual (a group beneficiary a live group): soft-deleted ones are refused,
        when the request is made and again when its approval task completes."""
        members = registry_individuals() if cls.MEMBER == "individual" else registry_groups()
        member = members.filter(id=member_id).values("is_deleted").first()
        if member is None:
            return [_("%(member)s %(id)s does not exist") % {"member": cls.MEMBER.capitalize(), "id": member_id}]
        if member["is_deleted"]:
            return [_("%(member)s %(id)s is deleted") % {"member": cls.MEMBER.capitalize(), "id": member_id}]
        return []


class BeneficiaryValidation(_BaseBeneficiaryValidation):
    OBJECT_TYPE = Beneficiary
    MEMBER = "individual"


class GroupBeneficiaryValidation(_BaseBeneficiaryValidation):
    OBJECT_TYPE = GroupBeneficiary
    MEMBER = "group"
