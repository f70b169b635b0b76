"""Bindings: enrolment (individual's selection signals), approval tasks (tasks_management)."""
import logging

from django.contrib.auth import get_user_model

from core.signals import ServiceSignalBindType, bind_service_signal

logger = logging.getLogger(__name__)


def _selection(result, prefix):
    """individual's selection result (a dict; tolerate a service envelope around it)."""
    if not isinstance(result, dict):
        return None
    if f"{prefix}_not_assigned_to_selected_programme" not in result and isinstance(result.get("data"), dict):
        result = result["data"]
    if f"{prefix}_not_assigned_to_selected_programme" not in result:
        return None
    return result


def on_individuals_selected(**kwargs):
    """AFTER ``individual_service.select_individuals_to_benefit_plan``: enrol the not-yet-enrolled set (with
    maker-checker: store its criteria for the approval, see ``EnrollmentService``).

    Errors propagate on purpose: the confirm mutation then fails with the message and nothing is kept.
    """
    from social_protection.services import EnrollmentService

    selection = _selection(kwargs.get("result"), "individuals")
    if selection is None:
        return None
    user = selection.get("user") or getattr(kwargs.get("cls_"), "user", None)
    return EnrollmentService(user).enroll_individuals(
        selection["individuals_not_assigned_to_selected_programme"], selection["benefit_plan_id"],
        selection["status"], criteria=selection.get("criteria"))


def on_groups_selected(**kwargs):
    from social_protection.services import EnrollmentService

    selection = _selection(kwargs.get("result"), "groups")
    if selection is None:
        return None
    user = selection.get("user") or getattr(kwargs.get("cls_"), "user", None)
    return EnrollmentService(user).enroll_groups(
        selection["groups_not_assigned_to_selected_programme"], selection["benefit_plan_id"], selection["status"],
        criteria=selection.get("criteria"))


def _completed_task(kwargs):
    from tasks_management.services import task_of_result

    return task_of_result(kwargs)


def on_enrollment_task_complete(**kwargs):
    """AFTER ``task_service.complete_task``: COMPLETED → enrol the upload's records; FAILED → upload FAIL."""
    from social_protection.apps import SocialProtectionConfig
    from social_protection.services import EnrollmentService

    task, user_id = _completed_task(kwargs)
    if not task or task.get("business_event") not in (SocialProtectionConfig.validation_enrollment,
                                                      SocialProtectionConfig.validation_group_enrollment):
        return None
    user = get_user_model().objects.get(id=user_id)
    return EnrollmentService(user).complete_enrollment_task(task)


def on_suspend_task_complete(**kwargs):
    """AFTER ``task_service.complete_task``: a COMPLETED suspend task closes the plan."""
    from social_protection.apps import SocialProtectionConfig
    from social_protection.services import BenefitPlanService
    from tasks_management.services import TaskStatus

    task, user_id = _completed_task(kwargs)
    if not task or task.get("business_event") != SocialProtectionConfig.benefit_plan_suspend:
        return None
    if task.get("status") != TaskStatus.COMPLETED:
        return None
    plan_id = (task.get("data") or {}).get("benefit_plan_id") or task.get("entity_id")
    result = BenefitPlanService(get_user_model().objects.get(id=user_id)).apply_suspension(plan_id)
    if not result.get("success"):
        logger.error("Suspension of benefit plan %s failed: %s", plan_id, result.get("detail"))
        return [f"Suspension of benefit plan failed: {result.get('detail')}"]
    return None


def bind_service_signals():
    from tasks_management.services import on_task_complete_service_handler

    from social_protection.services import BeneficiaryService, BenefitPlanService, GroupBeneficiaryService

    bind_service_signal("individual_service.select_individuals_to_benefit_plan", on_individuals_selected,
                        ServiceSignalBindType.AFTER)
    bind_service_signal("group_service.select_groups_to_benefit_plan", on_groups_selected,
                        ServiceSignalBindType.AFTER)
    bind_service_signal("task_service.complete_task", on_enrollment_task_complete, ServiceSignalBindType.AFTER)
    bind_service_signal("task_service.complete_task", on_suspend_task_complete, ServiceSignalBindType.AFTER)
    for service in (BenefitPlanService, BeneficiaryService, GroupBeneficiaryService):
        bind_service_signal("task_service.complete_task", on_task_complete_service_handler(service),
                            ServiceSignalBindType.AFTER)
