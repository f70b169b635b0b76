from django.db import models

from core.location import location_manager
from core.models import HistoryBusinessModel, HistoryModel, Location


class Widget(HistoryModel):
    name = models.CharField(max_length=100)
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.DO_NOTHING)

    @classmethod
    def get_queryset(cls, queryset, user):
        queryset = cls.objects.all() if queryset is None else queryset
        return location_manager.build_user_location_filter_query(user, prefix="location", queryset=queryset)


class Part(HistoryModel):
    widget = models.ForeignKey(Widget, on_delete=models.DO_NOTHING, related_name="parts")
    label = models.CharField(max_length=50)


class Contract(HistoryBusinessModel):
    code = models.CharField(max_length=20)
