import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openimis_be.settings")

app = Celery("openimis")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
