"""Demo: a district officer (staff, every report right, district R1D1 only) to see the dashboard's row security,
and the stored programme report of the previous month."""
import secrets

from django.db import transaction

from core.location import invalidate_location_cache
from core.models import (InteractiveUser, Location, Role, RoleRight, User, UserDistrict, UserRole,
                         invalidate_rights_cache)

OFFICER = "DistrictOfficer"
ROLE = "Programme officer (reports)"
DISTRICT = "R1D1"
# the search rights of the reporting modules (tasks_management's for the follow-up tasks)
REPORT_RIGHTS = [159001, 170001, 200001, 127000, 131224, 191001]


@transaction.atomic
def _officer(ctx):
    if User.objects.filter(username=OFFICER).exists():
        return
    district = Location.objects.filter(code=DISTRICT, type="D", validity_to__isnull=True).first()
    if district is None:
        ctx.log(f"reports: no district {DISTRICT}, no district officer")
        return
    role = Role.objects.filter(name=ROLE, validity_to__isnull=True).first()
    if role is None:
        role = Role.objects.create(name=ROLE)
        RoleRight.objects.bulk_create([RoleRight(role=role, right_id=r) for r in REPORT_RIGHTS])
    password = secrets.token_urlsafe(12)
    i_user = InteractiveUser.objects.create(last_name="Officer", other_names="District", language_id="en")
    user = User(username=OFFICER, i_user=i_user, is_staff=True)
    user.set_password(password)
    user.save()
    UserRole.objects.create(user=i_user, role=role)
    UserDistrict.objects.create(user=i_user, location=district)
    invalidate_rights_cache()
    invalidate_location_cache()
    ctx.add_credentials(OFFICER, password, f"programme officer of district {DISTRICT}: every report, that district "
                                           "only (/api/admin/reports/programmedashboard/)")


def contribute(ctx):
    _officer(ctx)
    from reports.models import MonthlyProgrammeReport
    from reports.monthly import generate, previous_month

    month = previous_month()
    if MonthlyProgrammeReport.objects.filter(month=month).exists():
        ctx.log(f"reports: programme report {month:%Y-%m} already stored")
        return
    report = generate(month, user=ctx.admin)
    ctx.log(f"reports: programme report {month:%Y-%m} stored ({report.elapsed_ms:.0f} ms); dashboard at "
            "/api/admin/reports/programmedashboard/")
