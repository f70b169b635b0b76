"""Follow-up task report (reports framework): the rule-generated tasks due now, overdue and coming, per rule and
the location of their subject (the household's or individual's; a ticket reported by a user has none). Right:
``gql_task_search_perms``. Period: the tasks' due date."""
from django.db.models import Count, Q

from reports.services import ReportDefinition, by_location, register
from tasks_management.models import RuleState, Task

RIGHTS = "tasks_management.gql_task_search_perms"


def follow_up_tasks_due(scope):
    tasks = (Task.objects.filter(is_deleted=False, rule_name__isnull=False,
                                 rule_state__in=(RuleState.READY, RuleState.DRAFT))
             .filter(scope.location_q("location")).filter(scope.period_q("due_date")))
    ready = Q(rule_state=RuleState.READY)
    rows = list(tasks.values("rule_name", "location_id").order_by().annotate(
        ready=Count("id", filter=ready), overdue=Count("id", filter=ready & Q(due_date__lt=scope.today)),
        coming=Count("id", filter=Q(rule_state=RuleState.DRAFT))))
    return by_location(scope, rows, ["ready", "overdue", "coming"], keys=("rule_name",))


register(ReportDefinition(
    name="follow_up_tasks_due", app="tasks_management", title="Follow-up tasks due",
    rights=RIGHTS, query=follow_up_tasks_due, order=45, filters=("location", "period"),
    columns=[("location", "Location"), ("rule_name", "Rule"), ("ready", "Due now (Ready)"),
             ("overdue", "Overdue"), ("coming", "Coming (Draft)")],
    chart={"kind": "bar", "label": "rule_name", "values": ["ready", "overdue", "coming"]},
    description="Rule-generated follow-up tasks (grievance follow-ups and the programme rules) not yet completed or "
                "cancelled, by rule and the location of their subject: Ready ones (overdue: due date before "
                "today) and Draft ones whose window has not opened. Period: the due date."))
