from django.db import migrations

from core.migration_utils import IMIS_ADMIN, grant_rights

ENROLMENT_OFFICER, ACCOUNTANT = 1, 4
REPORT_RIGHT = 131224  # the report and the notificationIndication query

admin_forward, admin_backward = grant_rights(IMIS_ADMIN, [REPORT_RIGHT])
officer_forward, officer_backward = grant_rights(ENROLMENT_OFFICER, [REPORT_RIGHT])
accountant_forward, accountant_backward = grant_rights(ACCOUNTANT, [REPORT_RIGHT])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_seed_languages_admin_role"),
        ("policy_notification", "0002_family_notification_for_existing_groups"),
    ]

    operations = [
        migrations.RunPython(admin_forward, admin_backward),
        migrations.RunPython(officer_forward, officer_backward),
        migrations.RunPython(accountant_forward, accountant_backward),
    ]
