"""Admin: the programme dashboard (an entry of the admin index whose page is the dashboard) and the stored
monthly programme reports (read-only, downloadable). Rights and row security are the reports' own."""
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path
from django.utils.html import format_html

from core.admin import ReadOnlyAdminMixin
from reports import services, views
from reports.models import MonthlyProgrammeReport, ProgrammeDashboard


@admin.register(ProgrammeDashboard)
class ProgrammeDashboardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """``/api/admin/reports/programmedashboard/``: the dashboard for whoever may run at least one report."""

    admin_area, admin_label, admin_order = "reports", "Programme dashboard", 1  # core/admin_site.py index
    list_display = ("month",)  # never listed: its page is the dashboard

    def has_view_permission(self, request, obj=None):
        return bool(services.available(request.user))

    def has_module_permission(self, request):
        return self.has_view_permission(request) or MonthlyProgrammeReportAdmin.may_view(request)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("download/", wrap(self.download_view), name="reports_programmedashboard_download"),
                path("", wrap(self.changelist_view), name="reports_programmedashboard_changelist")]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return views.dashboard(request, {**self.admin_site.each_context(request), "opts": self.model._meta,
                                         **(extra_context or {})})

    def download_view(self, request):
        if not self.has_view_permission(request) and not MonthlyProgrammeReportAdmin.may_view(request):
            raise PermissionDenied
        return views.dashboard_download(request)


@admin.register(MonthlyProgrammeReport)
class MonthlyProgrammeReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    admin_area, admin_order = "reports", 2
    list_display = ("month", "generated_at", "elapsed_ms", "download")
    fields = ("month", "generated_at", "elapsed_ms", "download")
    readonly_fields = fields

    @staticmethod
    def may_view(request):
        try:
            views.check_monthly_access(request.user)
        except PermissionDenied:
            return False
        return True

    def has_view_permission(self, request, obj=None):
        return self.may_view(request)

    def has_module_permission(self, request):
        return self.may_view(request)

    @admin.display(description="PDF")
    def download(self, obj):
        return format_html('<a href="../programmedashboard/download/?report=monthly&month={}&format=pdf">{}.pdf</a>',
                           obj.month.strftime("%Y-%m"), obj.month.strftime("%Y-%m"))

    def get_queryset(self, request):
        return super().get_queryset(request).defer("pdf", "payload")
