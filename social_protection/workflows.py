"""The Python beneficiary-upload workflows (workflow.md §9.1, group ``socialProtection``): the individual
module's steps, with the plan carried by the upload."""
from individual.services import start_apply, start_validation
from workflow.services import python_workflow


@python_workflow(group="socialProtection", name="Python Beneficiaries Upload")
def beneficiaries_upload(user_uuid, benefit_plan_uuid, upload_uuid):
    return start_validation(upload_uuid, user_uuid, update=False)


@python_workflow(group="socialProtection", name="Python Beneficiaries Update")
def beneficiaries_update(user_uuid, benefit_plan_uuid, upload_uuid):
    return start_validation(upload_uuid, user_uuid, update=True)


@python_workflow(group="socialProtection", name="Python Beneficiaries Valid Upload")
def beneficiaries_valid_upload(user_uuid, benefit_plan_uuid, upload_uuid, accepted=None):
    return start_apply(upload_uuid, user_uuid, accepted)


@python_workflow(group="socialProtection", name="Python Beneficiaries Valid Update")
def beneficiaries_valid_update(user_uuid, benefit_plan_uuid, upload_uuid, accepted=None):
    return start_apply(upload_uuid, user_uuid, accepted)
