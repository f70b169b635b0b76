from django.urls import path

from reports import views

urlpatterns = [
    path("monthly/<str:month>/", views.monthly_view),
    path("<str:name>/", views.report_view),
]
