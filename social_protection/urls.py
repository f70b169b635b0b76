from django.urls import path

from social_protection import views

urlpatterns = [
    path("import_beneficiaries/", views.import_beneficiaries),
    path("validate_import_beneficiaries/", views.validate_import_beneficiaries),
    path("create_task_with_importing_valid_items/", views.create_task_with_importing_valid_items),
    path("synchronize_data_for_reporting/", views.synchronize_data_for_reporting),
    path("download_invalid_items/", views.download_invalid_items),
    path("download_beneficiary_upload_file/", views.download_beneficiary_upload_file),
    path("download_template_benefit_plan_file/", views.download_template_benefit_plan_file),
]
