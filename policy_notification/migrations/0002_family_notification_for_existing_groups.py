"""A FamilyNotification (no consent, default language) for every existing household (spec §1.3, §13.2).

No message is sent about history: the first run finds enrolments activated long ago outside the relevance
windows and records them as status 3.
"""
from django.db import migrations
from django.utils import timezone

BATCH = 2000


def _default_language(apps):
    Language = apps.get_model("core", "Language")
    return Language.objects.order_by("sort_order", "code").values_list("code", flat=True).first() or "en"


def forward(apps, schema_editor):
    import uuid

    Group = apps.get_model("individual", "Group")
    FamilyNotification = apps.get_model("policy_notification", "FamilyNotification")
    History = apps.get_model("policy_notification", "HistoricalFamilyNotification")
    language = _default_language(apps)
    now = timezone.now()
    missing = (Group.objects.exclude(id__in=FamilyNotification.objects.values("group_id"))
               .order_by("id").values_list("id", "user_updated_id", "is_deleted"))
    rows = []

    def flush():
        FamilyNotification.objects.bulk_create(rows)
        History.objects.bulk_create([History(
            id=row.id, group_id=row.group_id, approval_of_notification=False, language_of_notification=language,
            is_deleted=row.is_deleted, date_created=now, date_updated=now, version=1,
            user_created_id=row.user_created_id, user_updated_id=row.user_updated_id, history_date=now,
            history_type="+", history_user_id=row.user_created_id) for row in rows])
        rows.clear()

    for group_id, user_id, deleted in missing.iterator(chunk_size=BATCH):
        rows.append(FamilyNotification(
            id=uuid.uuid4(), group_id=group_id, approval_of_notification=False, language_of_notification=language,
            is_deleted=deleted, date_created=now, date_updated=now, version=1, user_created_id=user_id,
            user_updated_id=user_id))
        if len(rows) >= BATCH:
            flush()
    if rows:
        flush()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_seed_languages_admin_role"),
        ("individual", "0002_rights_and_search_indexes"),
        ("policy_notification", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
