from django.urls import path

from individual import views

urlpatterns = [
    path("import_individuals/", views.import_individuals),
    path("download_template_file/", views.download_template_file),
    path("download_invalid_items/", views.download_invalid_items),
    path("download_individual_upload_file/", views.download_individual_upload_file),
]
