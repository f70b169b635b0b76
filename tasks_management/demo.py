"""Demo data: an approver group (the admin + a second checker) that receives the other modules' demo requests (an
individual's update, a benefit plan's update, an upload, over-limit payments: the admin asks, the Checker approves;
each request shows in the frontend's task panel of its source); the
group also receives the grievance follow-up tasks (task_rules), so both demo users see them in ``dueTasks``
once the grievance demo has created its tickets (each ticket save refreshes its follow-up task)."""
import secrets

from django.db import transaction

from core.models import IMIS_ADMIN_SYSTEM_ID, InteractiveUser, Role, User, UserRole, invalidate_rights_cache
from tasks_management.models import Task, TaskExecutor, TaskGroup
from tasks_management.services import TaskGroupService, TaskService

DEMO_GROUP = "demo-approvers"
CHECKER = "Checker"
DEMO_SOURCES = [
    "BenefitPlanService", "BeneficiaryService", "GroupBeneficiaryService", "import_valid_items",
    "import_group_valid_items",
    "IndividualService", "GroupService", "GroupIndividualService", "CreateGroupAndMoveIndividualService",
    "PaymentCycleService", "calcrule_social_protection",
]
# rule-generated tasks routed to the demo group (task_rules.md §12: source "task_rules.<rule name>")
RULE_SOURCES = ["task_rules.grievance_follow_up"]


def _checker(ctx):
    user = User.objects.filter(username=CHECKER).first()
    if user is not None:
        return user
    password = secrets.token_urlsafe(12)
    i_user = InteractiveUser.objects.create(last_name="Checker", other_names="Demo", language_id="en")
    user = User(username=CHECKER, i_user=i_user)
    user.set_password(password)
    user.save()
    role = Role.objects.get(is_system=IMIS_ADMIN_SYSTEM_ID, validity_to__isnull=True)
    UserRole.objects.create(user=i_user, role=role)
    invalidate_rights_cache()
    ctx.add_credentials(CHECKER, password, "IMIS Administrator, second executor of the demo-approvers task group")
    return user


@transaction.atomic
def contribute(ctx):
    admin = ctx.admin
    checker = _checker(ctx)
    wanted = [str(admin.id), str(checker.id)]
    group = TaskGroup.objects.filter(code=DEMO_GROUP, is_deleted=False).first()
    if group is None:
        result = TaskGroupService(admin).create({"code": DEMO_GROUP, "completion_policy": "ANY", "user_ids": wanted,
                                                 "task_sources": DEMO_SOURCES + RULE_SOURCES,
                                                 "task_allowed_sources": DEMO_SOURCES})
        if not result["success"]:
            ctx.log(f"task group {DEMO_GROUP} not created: {result['detail']}")
            return
        group = TaskGroup.objects.get(id=result["data"]["id"])
        ctx.log(f"task group {DEMO_GROUP} (policy ANY) with executors {admin.username}, {CHECKER}")
    else:
        live = {str(u) for u in TaskExecutor.objects.filter(task_group=group, is_deleted=False)
                .values_list("user_id", flat=True)}
        if not set(wanted) <= live:
            TaskGroupService(admin).update({"id": str(group.id), "user_ids": sorted(live | set(wanted))})
        ctx.log(f"task group {DEMO_GROUP} already present")
    # requests other modules' demos made before the group existed (an upload awaiting approval…) join it now
    for task in Task.objects.filter(status=Task.Status.RECEIVED, task_group__isnull=True, is_deleted=False,
                                    source__in=DEMO_SOURCES):
        TaskService(admin).update({"id": str(task.id), "task_group_id": str(group.id), "status": Task.Status.ACCEPTED})
    waiting = Task.objects.filter(task_group=group, status=Task.Status.ACCEPTED, is_deleted=False).count()
    ctx.log(f"{waiting} request(s) waiting in {DEMO_GROUP} for an executor's vote")
    ctx.after_all(lambda: _rule_tasks(ctx))  # the rule tasks of every module's demo records


def _rule_tasks(ctx):
    """Rule-generated tasks of what the whole demo holds (the records' own refreshes wait for their commit)."""
    from tasks_management.rules import engine

    try:
        stats = engine.refresh(everything=True, user=ctx.admin, wait=30)
    except engine.RefreshBusy:
        ctx.log("rule tasks: a refresh is running, skipped")
        return
    ctx.log(f"rule tasks: {stats.created} created, {stats.updated} updated over {stats.subjects} subjects")
