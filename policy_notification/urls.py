from django.urls import path

from policy_notification import views

urlpatterns = [
    path("communication_by_notification_report/", views.communication_by_notification_report),
]
