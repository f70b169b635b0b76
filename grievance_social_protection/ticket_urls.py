"""Routes under ``/api/ticket/`` (the frontend's legacy prefix for ticket files), mounted by openimis_be/urls.py
besides the module's own ``/api/grievance_social_protection/``."""
from django.urls import path

from grievance_social_protection import views

urlpatterns = [
    path("attach", views.attach, name="ticket_attachment_download"),
    path("attach/", views.attach),
]
