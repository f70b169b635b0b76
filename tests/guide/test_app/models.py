from django.db import models

from core.location import location_manager
from core.models import HistoryModel, Location, MutationLog, ObjectMutation, UUIDModel


class Visit(HistoryModel):
    class Outcome(models.TextChoices):
        PLANNED = "PLANNED"
        DONE = "DONE"
        MISSED = "MISSED"

    subject = models.CharField(max_length=120)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PLANNED)
    location = models.ForeignKey(Location, models.DO_NOTHING, null=True, blank=True, related_name="guide_visits")

    def __str__(self):
        return self.subject

    @classmethod
    def get_queryset(cls, queryset, user):
        queryset = cls.objects.all() if queryset is None else queryset
        return location_manager.build_user_location_filter_query(user, prefix="location", queryset=queryset)


class VisitMutation(UUIDModel, ObjectMutation):
    visit = models.ForeignKey(Visit, models.DO_NOTHING, related_name="mutations")
    mutation = models.ForeignKey(MutationLog, models.DO_NOTHING, related_name="guide_visits")
