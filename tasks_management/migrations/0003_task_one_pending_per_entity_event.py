"""One pending task per (entity, business event) instead of per entity (issue 9, maker-checker fit).

Reversing re-creates the per-entity constraint: it fails while an entity has pending tasks for two events.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('tasks_management', '0002_task_triage_role_and_rights'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='task',
            name='tasks_management_one_pending_task_per_entity',
        ),
        migrations.AddConstraint(
            model_name='task',
            constraint=models.UniqueConstraint(condition=models.Q(('emission_key__isnull', True), ('entity_id__isnull', False), ('is_deleted', False), ('status__in', ['RECEIVED', 'ACCEPTED'])), fields=('entity_type', 'entity_id', 'business_event'), name='tasks_management_one_pending_task_per_entity_event', violation_error_message='Another task is pending for this entity and business event'),
        ),
    ]
