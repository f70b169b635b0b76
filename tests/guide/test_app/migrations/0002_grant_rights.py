from django.db import migrations

from core.migration_utils import IMIS_ADMIN, grant_rights

forward, backward = grant_rights(IMIS_ADMIN, [995001, 995002, 995003, 995004])


class Migration(migrations.Migration):
    dependencies = [("guide", "0001_initial"), ("core", "0002_seed_languages_admin_role")]
    operations = [migrations.RunPython(forward, backward)]
