from django.db import models

from core.models import HistoryModel


class TmWidget(HistoryModel):
    name = models.CharField(max_length=100)
    amount = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    def __str__(self):
        return f"Widget {self.name}"
