"""Import a file of individuals (or beneficiaries of a plan) as an operator, with a progress bar.

The file goes through the same pipeline as an upload from the frontend (individual/imports.py): checked,
stored, every row validated; then the approval task waits for a checker (maker-checker), unless it is
switched off. The rows are read in this process so the bar can follow them; the approval runs where the
tasks run (celery)."""
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.management.arguments import acting_user
from individual import imports
from individual.workflows import start_validation
from workflow.services import WorkflowService

# the validation workflows this command runs in-process: name → (group, update file?)
INLINE = {
    "Python Import Individuals": ("individual", False),
    "Python Update Individuals": ("individual", True),
    "Python Beneficiaries Upload": ("socialProtection", False),
    "Python Beneficiaries Update": ("socialProtection", True),
}


class Command(BaseCommand):
    help = "Import individuals (or, with --plan, beneficiaries) from a CSV/XLSX/XLS/ODS file, as an upload."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the file to import")
        parser.add_argument("--plan", default=None, help="benefit plan code: import beneficiaries of that plan")
        parser.add_argument("--workflow", default=None,
                            help='workflow name (default "Python Import Individuals", with --plan '
                                 '"Python Beneficiaries Upload")')
        parser.add_argument("--group-aggregation-column", default=None,
                            help="column grouping rows into households (default group_code)")
        parser.add_argument("--username", default=None, help="acting user, the maker (default: first admin)")

    def handle(self, *args, file, plan, workflow, group_aggregation_column, username, **options):
        user = acting_user(username)
        workflow = workflow or ("Python Beneficiaries Upload" if plan else "Python Import Individuals")
        group = INLINE.get(workflow, ("socialProtection" if plan else "individual", False))[0]
        found = WorkflowService.get_workflow(workflow, group)
        if not found.get("success"):
            raise CommandError(found.get("message"))
        handler = found["data"]["workflow"]
        try:
            target = imports.plan_target(plan) if plan else imports.ImportTarget()
            with open(file, "rb") as handle:
                upload = imports.receive(user, target, import_file=File(handle, name=file.rsplit("/", 1)[-1]),
                                         workflow=handler, group_aggregation_column=group_aggregation_column,
                                         dispatch=False)
        except FileNotFoundError:
            raise CommandError(f"No such file: {file}") from None
        except imports.ImportRejected as exc:
            raise CommandError(str(exc)) from None
        imports.set_status(upload.id, imports.Status.TRIGGERED, user)
        if workflow in INLINE:
            with tqdm(unit="rows", desc="validated", disable=options.get("verbosity", 1) == 0) as bar:
                answer = self._validate(upload, user, INLINE[workflow][1], bar.update)
        else:
            answer = handler.run({"user_uuid": str(user.id), "upload_uuid": str(upload.id), **target.payload()})
            if not answer.get("success"):
                imports.fail(upload.id, user, "workflow", answer.get("message"))
        self._report(upload.id)

    @staticmethod
    def _validate(upload, user, update, progress):
        from workflow.services import PythonWorkflowHandlerException

        try:
            return start_validation(upload.id, user.id, update, progress=progress)
        except PythonWorkflowHandlerException as exc:
            return imports.fail(upload.id, user, "workflow", exc.message)

    def _report(self, upload_id):
        upload = imports.IndividualDataSourceUpload.objects.get(id=upload_id)
        progress = (upload.json_ext or {}).get("progress", {})
        self.stdout.write(f"upload {upload.id}: {upload.status}")
        if progress:
            self.stdout.write(f"  rows read {progress.get('rows_read', 0)}, invalid {progress.get('rows_invalid', 0)}, "
                              f"imported {progress.get('rows_imported', 0)}")
        if upload.status == imports.Status.FAIL:
            raise CommandError(f"Upload failed: {upload.error}")
        if upload.status == imports.Status.WAITING_FOR_VERIFICATION:
            self.stdout.write("  waiting for a checker: approve its task (source import_valid_items) as another user")
        self.stdout.write(self.style.SUCCESS("done"))
