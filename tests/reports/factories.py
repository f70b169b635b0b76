"""factory_boy factories of reports (the stored monthly report; the dashboard proxy shares its table)."""
import datetime

import factory
from django.utils import timezone

from reports.models import MonthlyProgrammeReport, ProgrammeDashboard, SummaryRefresh


class MonthlyProgrammeReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MonthlyProgrammeReport

    month = factory.Sequence(lambda n: datetime.date(2000 + n // 12, n % 12 + 1, 1))
    generated_at = factory.LazyFunction(timezone.now)
    payload = factory.LazyAttribute(lambda o: {"month": o.month.strftime("%Y-%m"), "reports": []})
    pdf = b"%PDF-1.4\n"


class ProgrammeDashboardFactory(MonthlyProgrammeReportFactory):
    class Meta:
        model = ProgrammeDashboard


class SummaryRefreshFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SummaryRefresh

    name = factory.Sequence(lambda n: f"reports_sum_test_{n}")
    refreshed_at = factory.LazyFunction(timezone.now)
