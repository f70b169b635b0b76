from django.contrib import admin

from core.admin import HistoryModelAdmin
from tests.guide.test_app.models import Visit


@admin.register(Visit)
class VisitAdmin(HistoryModelAdmin):
    list_display = ("subject", "outcome", "location", "is_deleted")
