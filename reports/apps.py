"""reports: programme reports and dashboards on the project's own database (the role of upstream's
opensearch_reports). The framework lives here; each module declares its reports in ``<module>/reports.py``."""
from core.module_config import ModuleAppConfig

MODULE_NAME = "reports"

DEFAULT_CONFIG = {
    # the stored monthly programme reports (list, download) and the generation on demand
    "gql_monthly_report_perms": ["210001"],
    # months of stored monthly reports kept (older ones are removed by the monthly job); 0 keeps every one
    "monthly_report_keep_months": 36,
    # the user the scheduled job runs the reports as (empty: the first active superuser)
    "run_as_username": "",
    # PostgreSQL: the large reports read summary tables (reports/summaries.py) refreshed this often
    "use_summaries": True,
    "summary_refresh_seconds": 600,
}


class ReportsConfig(ModuleAppConfig):
    name = MODULE_NAME
    verbose_name = "Programme reports"
    DEFAULT_CONFIG = DEFAULT_CONFIG

    @property
    def SCHEDULED_JOBS(self):  # noqa: N802 (the core.scheduling contract)
        return [{"name": "reports_monthly_programme_report",
                 "task": "reports.tasks.generate_monthly_programme_report",
                 "cron": {"day_of_month": 1, "hour": 3, "minute": 30}},
                {"name": "reports_refresh_summaries", "task": "reports.tasks.refresh_summaries",
                 "every": max(60, int(type(self).summary_refresh_seconds))}]

    def ready(self):
        super().ready()
        from reports.services import autodiscover

        autodiscover()  # every installed module's <module>.reports registers its reports
        from reports import signals

        signals.bind_service_signals()
