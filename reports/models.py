"""The stored monthly programme report, and the admin dashboard's entry (a proxy: no table of its own)."""
import uuid

from django.db import models


class MonthlyProgrammeReport(models.Model):
    """Every report for one calendar month, as the scheduled job computed it (unrestricted figures: only callers
    who see every location may download it). ``payload``: the reports as JSON; ``pdf``: the printable file."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    month = models.DateField(unique=True, help_text="first day of the month reported")
    generated_at = models.DateTimeField()
    elapsed_ms = models.FloatField(default=0)
    payload = models.JSONField(default=dict)
    pdf = models.BinaryField()

    class Meta:
        ordering = ("-month",)

    def __str__(self):
        return f"Programme report {self.month:%Y-%m}"


class ProgrammeDashboard(MonthlyProgrammeReport):
    """Only an entry of the admin index: its page is the programme dashboard (reports.admin)."""

    class Meta:
        proxy = True
        verbose_name = "programme dashboard"
        verbose_name_plural = "programme dashboard"


class SummaryRefresh(models.Model):
    """When a summary table (a PostgreSQL materialized view ``reports_sum_*``) was last refreshed, and how long
    the refresh took: the reports that read it show this time."""

    name = models.CharField(max_length=64, primary_key=True)
    refreshed_at = models.DateTimeField()
    elapsed_ms = models.FloatField(default=0)

    def __str__(self):
        return f"{self.name} at {self.refreshed_at:%Y-%m-%d %H:%M:%S}"
