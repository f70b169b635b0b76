"""The Python import workflows of the individual registry (workflow.md §9.1, group ``individual``) and the
steps the social_protection workflows share. Each one answers at once: the heavy work runs in celery
(``individual.tasks``) once the caller's transaction has committed."""
from core.scheduling import enqueue_on_commit
from individual import imports
from workflow.services import PythonWorkflowHandlerException, python_workflow


def start_validation(upload_uuid, user_uuid, update, progress=None):
    """Record whether the file creates or updates, check its header (a problem fails the workflow, hence
    the upload), then stage and validate it in celery (in this process with a ``progress(rows)`` callback:
    the import command)."""
    from individual.tasks import stage_upload

    upload = imports.IndividualDataSourceUpload.objects.get(id=upload_uuid)
    imports.IndividualDataSourceUpload.objects.filter(id=upload.id).update(
        json_ext={**(upload.json_ext or {}), "mode": "update" if update else "import"})
    problem = imports.check_header(upload.id)
    if problem:
        raise PythonWorkflowHandlerException(problem)
    if progress is not None:
        from django.contrib.auth import get_user_model

        imports.stage(upload.id, get_user_model().objects.get(id=user_uuid), progress)
    else:
        enqueue_on_commit(stage_upload, str(upload.id), str(user_uuid))
    return {"upload_uuid": str(upload.id), "step": "validation queued"}


def start_apply(upload_uuid, user_uuid, accepted):
    from individual.tasks import apply_upload

    enqueue_on_commit(apply_upload, str(upload_uuid), str(user_uuid),
                      None if accepted is None else [str(i) for i in accepted])
    return {"upload_uuid": str(upload_uuid), "step": "import queued"}


@python_workflow(group="individual", name="Python Import Individuals")
def import_individuals(user_uuid, upload_uuid):
    return start_validation(upload_uuid, user_uuid, update=False)


@python_workflow(group="individual", name="Python Update Individuals")
def update_individuals(user_uuid, upload_uuid):
    return start_validation(upload_uuid, user_uuid, update=True)


@python_workflow(group="individual", name="Python Valid Upload Individuals")
def valid_upload_individuals(user_uuid, upload_uuid, accepted=None):
    return start_apply(upload_uuid, user_uuid, accepted)


@python_workflow(group="individual", name="Python Valid Update Individuals")
def valid_update_individuals(user_uuid, upload_uuid, accepted=None):
    return start_apply(upload_uuid, user_uuid, accepted)
