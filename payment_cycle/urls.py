from django.urls import path

from payment_cycle import views

urlpatterns = [
    path("payment_list/", views.payment_list),
    path("reconcile/", views.reconcile),
]
