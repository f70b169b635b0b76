"""Celery tasks of the upload pipeline (individual/imports.py): staging and validation of a file, applying
the approved rows, applying the approved households. Each takes ids (JSON-serialisable) and never raises:
the outcome is the upload's status and error."""
from celery import shared_task
from django.contrib.auth import get_user_model


def _user(user_id):
    return get_user_model().objects.get(id=user_id)


@shared_task(name="individual.tasks.stage_upload")
def stage_upload(upload_id, user_id):
    from individual import imports

    imports.stage(upload_id, _user(user_id))
    return upload_id


@shared_task(name="individual.tasks.apply_upload")
def apply_upload(upload_id, user_id, accepted=None):
    from individual import imports

    imports.apply(upload_id, _user(user_id), accepted)
    return upload_id


@shared_task(name="individual.tasks.apply_group_upload")
def apply_group_upload(upload_id, user_id, accepted=None):
    from individual import imports

    imports.apply_groups(upload_id, _user(user_id), accepted)
    return upload_id
