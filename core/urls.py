from django.urls import path

from core import views

urlpatterns = [
    path("users/current_user/", views.current_user, name="current_user"),
    path("fetch_export", views.fetch_export, name="fetch_export"),
    path("fetch_export/", views.fetch_export),
    path("scheduled_jobs/", views.scheduled_jobs, name="scheduled_jobs"),
]
