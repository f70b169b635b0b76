from django.db import models

from core.models import HistoryModel


class TmWidget(HistoryModel):
    name = models.CharField(max_length=100)
    amount = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    # another widget: its id in task data is shown by name in businessData (a lookup in the database)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+")

    def __str__(self):
        return f"Widget {self.name}"
