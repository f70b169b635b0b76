import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="core.tasks.openimis_mutation_async")
def openimis_mutation_async(mutation_log_id, module, class_name):
    """Run a logged mutation in a worker; the outcome lands on the MutationLog like the inline path."""
    from core.gql.mutation import MUTATION_REGISTRY, run_logged_mutation
    from core.models import MutationLog

    log = MutationLog.objects.select_related("user").get(id=mutation_log_id)
    cls = MUTATION_REGISTRY.get((module, class_name))
    if cls is None:
        log.mark_as_failed([{"message": f"Unknown mutation {module}.{class_name}", "detail": ""}])
        return
    run_logged_mutation(cls, log, log.user)


@shared_task(name="core.tasks.cleanup_expired_exports")
def cleanup_expired_exports():
    """Soft-delete exports past their expiry date and remove their files."""
    from core.models import ExportableQueryModel

    expired = ExportableQueryModel.objects.filter(is_deleted=False, expire_date__lt=timezone.now())
    count = 0
    for export in expired.iterator():
        if export.content:
            export.content.delete(save=False)
        count += 1
    expired.update(is_deleted=True)
    logger.info("Removed %s expired exports", count)
    return count


@shared_task(name="core.tasks.build_export")
def build_export(export_id):
    """Write a large export outside the request; fetch_export answers 409 until the file exists."""
    from core.gql.export import build_export_file, queryset_of
    from core.models import ExportableQueryModel

    export = ExportableQueryModel.objects.get(id=export_id)
    build_export_file(export, queryset_of(export))


@shared_task(name="core.tasks.sync_json_indexes")
def sync_json_indexes():
    """Indexes of the JSON keys the schemas declare searchable (core.json_indexes), after a schema changed."""
    from core.json_indexes import sync_json_indexes as sync

    done = sync()
    if done["created"] or done["dropped"]:
        logger.info("JSON indexes: created %s, dropped %s", done["created"], done["dropped"])
    return done
