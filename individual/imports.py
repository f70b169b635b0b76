"""Uploads of individuals and beneficiaries: the engine behind the import workflows (individual.md §8,
social_protection.md §4.5–§4.7, workflow.md §9).

The life of an upload::

    receive()      request: fields and file checked, file stored, upload PENDING + its upload record, then
                   (after commit) TRIGGERED and the chosen workflow run
    check_header() the workflow (synchronous): a header problem fails the workflow → upload FAIL
    stage()        celery: the file streamed once; each row typed and checked in Python (required columns,
                   types, JSON Schema, validation strategies) and written as a data source with its verdict
                   (COPY on PostgreSQL, with history rows); then the checks across rows in SQL (uniqueness
                   within the file and against the registry); then the maker-checker task → WAITING_FOR_
                   VERIFICATION (or, without maker-checker, straight to apply())
    apply()        celery, after the checker's approval (all rows, or the ACCEPT ids of a partial vote):
                   individuals created with ``INSERT … SELECT`` from the valid rows (each individual takes
                   its data source's id, so linking the rows is one ``UPDATE``), households built from the
                   aggregation column (``individual.households``, in SQL), beneficiaries enrolled → SUCCESS /
                   PARTIAL_SUCCESS

Every write goes through ``core.bulk`` (history rows included) and the number of SQL statements depends on
the number of batches, never on the number of rows of a batch. Progress counters live in the upload's
``json_ext.progress`` and are committed batch by batch, so GraphQL shows them while a file is read.

What a programme adds (its plan, its schema, enrolment) comes in through :class:`ImportTarget`, so the
social_protection module drives the same engine without this module knowing it.
"""
import logging
import uuid
from dataclasses import dataclass
from itertools import islice

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, DateField, Exists, F, OuterRef, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from core import bulk, json_schema
from core.tabular import CellError, HeaderRules, TabularError, open_table, parse_date, PARSERS
from individual import households
from individual.apps import IndividualConfig
from individual.models import (
    Group,
    GroupDataSource,
    GroupIndividual,
    Individual,
    IndividualDataSource,
    IndividualDataSourceUpload,
    IndividualDataUploadRecords,
)

logger = logging.getLogger(__name__)

Status = IndividualDataSourceUpload.Status
CORE_COLUMNS = ("first_name", "last_name", "dob")
SYSTEM_COLUMN, UPDATE_KEY = "id", "ID"
HELPER_COLUMNS = ("recipient_info", "group_code", "individual_role")
# row keys that are not attributes of the individual (never copied into its json_ext)
NOT_ATTRIBUTES = (*CORE_COLUMNS, SYSTEM_COLUMN, UPDATE_KEY, *HELPER_COLUMNS)
DEFAULT_AGGREGATION = "group_code"
BATCH_ROWS = 20000
INVALID = Q(validations__validation_errors__0__isnull=False)


class ImportRejected(Exception):
    """The request is refused before anything is written (HTTP 400, the message is for the user)."""

    http_status = 400


class FileAlreadyStored(ImportRejected):
    """A file of that name is stored for an upload that is running or went through (HTTP 409)."""

    http_status = 409


# --------------------------------------------------------------------------------------------------------------
# What is imported: the registry alone, or into a programme
# --------------------------------------------------------------------------------------------------------------
class ImportTarget:
    """The registry as the destination of an upload; social_protection subclasses it for a benefit plan."""

    noun = "individuals"
    workflow_group = "individual"
    source_type = "individual import"
    record_model = IndividualDataUploadRecords
    plan = None
    group_upload_checked = True  # households wait for their own approval (enable_maker_checker_for_group_upload)
    household_needs_head = False  # the registry keeps a household whose file names no head (individual.md §6.2)

    def schema(self):
        return IndividualConfig.get_individual_schema()

    def storage_path(self, filename):
        return f"individual_upload/{filename}"

    def record_values(self):
        return {}

    def payload(self):
        return {}

    def maker_checker(self, update):
        return bool(IndividualConfig.enable_maker_checker_for_individual_update if update
                    else IndividualConfig.enable_maker_checker_for_individual_upload)

    def business_event(self, update):
        return (IndividualConfig.validation_upload_valid_items if update
                else IndividualConfig.validation_import_valid_items)

    def valid_items_workflow(self, update):
        return (IndividualConfig.validation_upload_valid_items_workflow if update
                else IndividualConfig.validation_import_valid_items_workflow)

    def task_json_ext(self):
        return {}

    def update_key_exists(self, ids):
        """The ids among ``ids`` (uuid strings) that an update file may name."""
        return {str(i) for i in Individual.objects.filter(id__in=ids, is_deleted=False).values_list("id", flat=True)}

    def apply_updates(self, rows, user, now):
        """``rows``: [(data source id, row json)] of valid update rows: overwrite the named individuals."""
        return update_individuals([(ds_id, row[UPDATE_KEY], row) for ds_id, row in rows], user, now)

    def after_update(self, groups, user, now):
        """The households an update formed (a queryset): nothing to add."""
        return None

    def after_create(self, individuals, groups, user, now):
        """The individuals (a queryset) created by this run and the groups they joined: nothing to add."""
        return None

    @classmethod
    def of(cls, upload):
        """The target an existing upload was made for."""
        plan_id = (upload.json_ext or {}).get("benefit_plan_id")
        if plan_id and _PLAN_TARGET is not None:
            return _PLAN_TARGET.for_plan_id(plan_id)
        return cls()


_PLAN_TARGET = None


def plan_target(code):
    """The target of the live benefit plan ``code`` (needs the social_protection module)."""
    if _PLAN_TARGET is None:
        raise ImportRejected("Benefit plans are not installed (module social_protection)")
    return _PLAN_TARGET.for_plan_code(code)


def register_plan_target(target_class):
    """social_protection registers its :class:`ImportTarget` subclass (with ``for_plan_id``) in ``ready()``."""
    global _PLAN_TARGET
    _PLAN_TARGET = target_class


@dataclass
class Job:
    upload: IndividualDataSourceUpload
    target: ImportTarget

    @classmethod
    def load(cls, upload_id, lock=False):
        queryset = IndividualDataSourceUpload.objects.select_for_update() if lock else IndividualDataSourceUpload.objects
        upload = queryset.get(id=upload_id)
        return cls(upload, ImportTarget.of(upload))

    @property
    def meta(self):
        return self.upload.json_ext or {}

    @property
    def update(self):
        return self.meta.get("mode") == "update"

    @property
    def aggregation(self):
        column = self.meta.get("group_aggregation_column")
        return column if column and column != "null" else DEFAULT_AGGREGATION

    @property
    def sources(self):
        return IndividualDataSource.objects.filter(upload_id=self.upload.id, is_deleted=False)

    @property
    def record(self):
        return self.target.record_model.objects.filter(data_upload_id=self.upload.id).order_by("date_created").first()


# --------------------------------------------------------------------------------------------------------------
# Status and progress
# --------------------------------------------------------------------------------------------------------------
def set_status(upload_id, status, user, error=None, **progress):
    """Status (and error) saved with history, only when changed; ``progress`` merged into json_ext.progress."""
    upload = IndividualDataSourceUpload.objects.get(id=upload_id)
    json_ext = dict(upload.json_ext or {})
    if progress:
        json_ext["progress"] = {**json_ext.get("progress", {}), **progress}
    changes = {"status": status, "error": error if error is not None else upload.error, "json_ext": json_ext}
    if any(getattr(upload, k) != v for k, v in changes.items()):
        for key, value in changes.items():
            setattr(upload, key, value)
        upload.save(user=user)
    return upload


def report_progress(upload_id, **counters):
    """Progress counters only: a plain UPDATE, committed at once and without a history row (they are
    transient; the final figures are saved with the status)."""
    upload = IndividualDataSourceUpload.objects.get(id=upload_id)
    json_ext = dict(upload.json_ext or {})
    json_ext["progress"] = {**json_ext.get("progress", {}), **counters}
    IndividualDataSourceUpload.objects.filter(id=upload_id).update(json_ext=json_ext)


def fail(upload_id, user, key, message):
    logger.warning("Upload %s failed (%s): %s", upload_id, key, message)
    return set_status(upload_id, Status.FAIL, user, {key: str(message)})


# --------------------------------------------------------------------------------------------------------------
# Receiving a file
# --------------------------------------------------------------------------------------------------------------
def receive(user, target, *, import_file, workflow, group_aggregation_column=None, mode="import", dispatch=True):
    """Store the file, create the upload (PENDING) and its record, and after commit run ``workflow`` (a
    handler) on it (``dispatch=False``: the caller runs it, e.g. the import command with its progress bar).
    Raises :class:`ImportRejected` / :class:`FileAlreadyStored`. Answers the upload."""
    _check_file(import_file)
    path = target.storage_path(import_file.name)
    stored = _store(import_file, path)
    try:
        with transaction.atomic():
            upload = IndividualDataSourceUpload(
                source_name=import_file.name, source_type=target.source_type, status=Status.PENDING,
                json_ext={"mode": mode, "file": stored, "group_aggregation_column": group_aggregation_column,
                          **({"benefit_plan_id": str(target.plan.id)} if target.plan else {})})
            upload.save(user=user)
            record = target.record_model(data_upload=upload, workflow=workflow.name[:50],
                                         json_ext={"group_aggregation_column": group_aggregation_column},
                                         **target.record_values())
            record.save(user=user)
            payload = {"user_uuid": str(user.id), "upload_uuid": str(upload.id), **target.payload()}
            if dispatch:
                transaction.on_commit(lambda: trigger(upload.id, workflow, payload, user))
    except BaseException:
        default_storage.delete(stored)
        raise
    return upload


def receive_request(user, target, *, import_file, workflow_name, workflow_group, group_aggregation_column=None):
    """The import endpoints' common part (workflow.md §9.3): the fields, the workflow lookup, then
    :func:`receive`. Raises :class:`ImportRejected` with the spec's messages."""
    from workflow.services import WorkflowService

    if not import_file:
        raise ImportRejected("Import file not provided")
    if not workflow_name:
        raise ImportRejected("Workflow name not provided")
    if not workflow_group:
        raise ImportRejected("Workflow group not provided")
    found = WorkflowService.get_workflow(workflow_name, workflow_group)
    if not found.get("success"):
        raise ImportRejected(found.get("message"))
    if found["data"]["workflow"].system == "python" and workflow_group != target.workflow_group:
        # our Python workflows read the payload of their own endpoint (a plan or none); an engine's projects
        # (Lightning) are named freely
        raise ImportRejected(f"Workflow group {workflow_group} does not import {target.noun}: "
                             f"choose a workflow of the group {target.workflow_group}")
    return receive(user, target, import_file=import_file, workflow=found["data"]["workflow"],
                   group_aggregation_column=group_aggregation_column or None)


# what the header says is the workflow's to judge (workflow.md §9.4 step 5: the upload FAILs with the reason)
HEADER_PROBLEMS = {"duplicate_column", "blank_column_name"}


def _check_file(import_file):
    """The file as a whole (format, size, encoding, a header, at least one row); the columns themselves are
    checked by the workflow (:func:`check_header`)."""
    kind = getattr(import_file, "content_type", None) or "unknown"
    try:
        import_file.seek(0)
        with open_table(import_file):
            pass
    except TabularError as exc:
        if set(exc.codes) <= HEADER_PROBLEMS:
            return
        if "unsupported_format" in exc.codes:
            raise ImportRejected(f"Unsupported content type: {kind}. {' '.join(exc.messages)}") from None
        if "no_data_rows" in exc.codes:  # a header alone is an empty table (workflow.md §9.4)
            raise ImportRejected("Import file is empty") from None
        raise ImportRejected(" ".join(exc.messages)) from None
    finally:
        import_file.seek(0)


def _store(import_file, path):
    """Save under ``path``; a file of that name kept by a running or finished upload → 409 (one that failed
    is replaced, so a corrected file can be sent under the same name)."""
    if default_storage.exists(path):
        holders = IndividualDataSourceUpload.objects.filter(json_ext__file=path).exclude(status=Status.FAIL)
        if holders.exists():
            raise FileAlreadyStored(f"File {import_file.name} has already been uploaded")
        default_storage.delete(path)
    stored = default_storage.save(path, import_file)
    if stored != path:  # a concurrent request stored the same name first
        default_storage.delete(stored)
        raise FileAlreadyStored(f"File {import_file.name} has already been uploaded")
    return stored


def trigger(upload_id, workflow, payload, user):
    set_status(upload_id, Status.TRIGGERED, user)
    answer = workflow.run(payload)
    if not answer.get("success"):
        fail(upload_id, user, "workflow", answer.get("message") or "Workflow failed")
    return answer


# --------------------------------------------------------------------------------------------------------------
# Header (run by the workflow itself: its failure is the upload's)
# --------------------------------------------------------------------------------------------------------------
def header_rules(target, update):
    properties = list((target.schema() or {}).get("properties", {}))
    required = [*CORE_COLUMNS, *([UPDATE_KEY] if update else [])]
    allowed = [*required, SYSTEM_COLUMN, *HELPER_COLUMNS, *properties]
    return HeaderRules(required=required, allowed=allowed)


def check_header(upload_id):
    """``None`` when the stored file's header fits the target, else the message (one problem per line)."""
    job = Job.load(upload_id)
    try:
        with open_stored(job):
            return None
    except TabularError as exc:
        lines = []
        unknown = exc.columns("unknown_column")
        if unknown:
            lines.append(f"Uploaded {job.target.noun} contains invalid columns: {set(unknown)}")
        for column in exc.columns("missing_column"):
            lines.append(f"Uploaded {job.target.noun} missing essential header: {column}")
        lines += [p.message for p in exc.problems if p.code not in ("unknown_column", "missing_column")]
        return "\n".join(lines)


def open_stored(job):
    return open_table(default_storage.open(job.meta["file"], "rb"), rules=header_rules(job.target, job.update))


# --------------------------------------------------------------------------------------------------------------
# Row checks (Python, while the file streams)
# --------------------------------------------------------------------------------------------------------------
def _email(value):
    text = str(value or "")
    local, _, domain = text.partition("@")
    if not local or "." not in domain or " " in text or domain.startswith(".") or domain.endswith("."):
        return "invalid email"
    return None


# validationCalculation strategies a schema property may name (individual.md §3)
STRATEGIES = {"EmailValidationStrategy": _email}
ROLES = {role.casefold(): role for role in GroupIndividual.Role.values}


def _schema_parser(prop):
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "integer":
        return PARSERS["integer"]
    if kind == "number":
        return lambda text: None if (value := PARSERS["number"](text)) is None else (
            int(value) if value == value.to_integral_value() and "." not in str(text) else float(value))
    if kind == "boolean":
        return PARSERS["boolean"]
    return PARSERS["text"]


def _uuid_text(text):
    text = (text or "").strip()
    if not text:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise CellError(f"'{text}' is not an id") from None


class RowChecker:
    """Types one row (cells → JSON values) and lists every reason it is invalid, each as
    ``{"field_name", "note"}``."""

    def __init__(self, target, columns, update):
        self.update = update
        schema = target.schema() or {}
        properties = schema.get("properties", {}) or {}
        try:  # compiled once for the whole file
            self.validator = json_schema.validator(schema) if schema else None
        except json_schema.SchemaInvalid:
            self.validator = None  # a bad configured schema is reported at start-up; it does not block uploads
        self.parsers = {}
        for column in columns:
            if column in ("first_name", "last_name"):
                self.parsers[column] = PARSERS["text"]
            elif column == "dob":
                self.parsers[column] = lambda text: None if (d := parse_date(text)) is None else d.isoformat()
            elif column == UPDATE_KEY:
                self.parsers[column] = _uuid_text
            elif column == "recipient_info":
                self.parsers[column] = PARSERS["integer"]
            elif column in properties:
                self.parsers[column] = _schema_parser(properties[column])
            else:
                self.parsers[column] = PARSERS["text"]
        self.required = [UPDATE_KEY] if update else list(CORE_COLUMNS)
        self.attributes = [c for c in columns if c not in NOT_ATTRIBUTES]
        self.strategies = [(name, STRATEGIES[prop["validationCalculation"].get("name")])
                           for name, prop in properties.items()
                           if isinstance(prop, dict) and isinstance(prop.get("validationCalculation"), dict)
                           and prop["validationCalculation"].get("name") in STRATEGIES and name in columns]

    def check(self, row):
        errors = []
        for reason in row.errors:
            field, _, note = reason.partition(": ")
            errors.append({"field_name": field if note else "", "note": note or reason})
        flagged = {e["field_name"] for e in errors}
        values = {}
        for column, text in row.values.items():
            if column in flagged:  # already refused by the reader (a formula…): one reason per cell
                values[column] = text
                continue
            try:
                values[column] = self.parsers[column](text)
            except CellError as exc:
                values[column] = text
                errors.append({"field_name": column, "note": exc.reason})
                flagged.add(column)
        for column in self.required:
            if values.get(column) in (None, "") and column not in flagged:
                errors.append({"field_name": column, "note": f"{column} is required"})
                flagged.add(column)
        role = values.get("individual_role")
        if role and str(role).casefold() not in ROLES:
            errors.append({"field_name": "individual_role",
                           "note": f"unknown role '{role}' (one of {', '.join(GroupIndividual.Role.values)})"})
        if self.validator is not None:
            attributes = {k: values[k] for k in self.attributes if values.get(k) is not None and k not in flagged}
            for field, message in json_schema.compiled_errors(self.validator, attributes):
                name = field.split(".", 1)[0]
                if name not in flagged:
                    errors.append({"field_name": name, "note": message})
        for name, strategy in self.strategies:
            if values.get(name) not in (None, "") and name not in flagged:
                note = strategy(values[name])
                if note:
                    errors.append({"field_name": name, "note": note})
        # blank cells are left out: an absent key is SQL NULL on every backend (a JSON null is not on SQLite)
        return {k: v for k, v in values.items() if v is not None and v != ""}, errors


# --------------------------------------------------------------------------------------------------------------
# Staging and validation
# --------------------------------------------------------------------------------------------------------------
def _batches(iterable, size):
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def stage(upload_id, user, progress=None):
    """Read the stored file into data sources with their verdicts, check across rows, then hand over to the
    checker. Any failure: the staged rows are soft-deleted and the upload is FAIL with the reason."""
    job = Job.load(upload_id)
    if job.upload.status not in (Status.PENDING, Status.TRIGGERED):
        logger.info("Upload %s is %s: not staged again", upload_id, job.upload.status)
        return job.upload
    set_status(upload_id, Status.IN_PROGRESS, user, rows_read=0, rows_invalid=0, rows_written=0)
    try:
        counts = _stage_rows(job, user, progress)
        bulk.analyze(IndividualDataSource)  # the checks across rows are planned on the rows just loaded
        invalid = _check_across_rows(job, user)
    except (TabularError, ValidationError) as exc:
        _discard_staged(job, user)
        return fail(upload_id, user, "workflow", " ".join(exc.messages))
    except Exception as exc:
        logger.exception("Staging upload %s failed", upload_id)
        _discard_staged(job, user)
        return fail(upload_id, user, "workflow", f"Upload could not be read ({exc.__class__.__name__})")
    counts["rows_invalid"] = invalid
    valid = counts["rows_read"] - invalid
    set_status(upload_id, Status.IN_PROGRESS, user, **counts, rows_valid=valid)
    if valid == 0:
        return fail(upload_id, user, "errors", "No valid row in the file: download the invalid items to correct "
                                               "them")
    return hand_over(job, user, counts["rows_read"], invalid)


def _stage_rows(job, user, progress):
    read = 0
    # each batch commits on its own (a failure soft-deletes what was staged); a batch is written while the next
    # one is read and checked
    with open_stored(job) as table, bulk.BackgroundInserts(IndividualDataSource, user=user) as staged:
        checker = RowChecker(job.target, table.columns, job.update)
        report_progress(job.upload.id, columns=table.columns)
        for batch in _batches(table, BATCH_ROWS):
            rows = []
            for row in batch:
                values, errors = checker.check(row)
                rows.append((row.number, values, errors))
            if job.update:
                _check_update_keys(job, rows)
            staged.write([{"upload_id": job.upload.id, "json_ext": values,
                           "validations": {"validation_errors": errors, "row": number}}
                          for number, values, errors in rows])
            read += len(rows)
            report_progress(job.upload.id, rows_read=read, rows_written=staged.committed)
            if progress is not None:
                progress(len(rows))
    return {"rows_read": read, "rows_written": staged.committed}  # the last batch waited for on leaving


def _check_update_keys(job, rows):
    # a cell refused as an id keeps its text: it must not reach the uuid lookup
    typed = [(values, errors) for _, values, errors in rows
             if values.get(UPDATE_KEY) and not any(e["field_name"] == UPDATE_KEY for e in errors)]
    keys = {values[UPDATE_KEY] for values, _ in typed}
    known = job.target.update_key_exists(keys) if keys else set()
    for values, errors in typed:
        key = values[UPDATE_KEY]
        if key not in known:
            errors.append({"field_name": UPDATE_KEY, "note": f"no {job.target.noun[:-1]} with id {key}"})


def _unique_properties(job):
    properties = (job.target.schema() or {}).get("properties", {}) or {}
    unique = [name for name, prop in properties.items() if isinstance(prop, dict) and prop.get("uniqueness")]
    return unique + ([UPDATE_KEY] if job.update else [])


def _check_across_rows(job, user):
    """Uniqueness of the schema's unique fields within the file and against the registry (and of ``ID`` in
    an update file), in SQL; the offending rows get their reasons. Answers the number of invalid rows."""
    offenders = {}
    for name in _unique_properties(job):
        value = KT(f"json_ext__{name}")
        present = job.sources.annotate(value=value).filter(value__isnull=False)
        repeated = present.values("value").annotate(n=Count("id")).filter(n__gt=1).values("value")
        for ds_id, validations, found in present.filter(value__in=repeated).values_list("id", "validations", "value"):
            offenders.setdefault(ds_id, validations)["validation_errors"].append(
                {"field_name": name, "note": f"{name} '{found}' appears more than once in the file"})
        if name == UPDATE_KEY:
            continue
        registry = Individual.objects.filter(is_deleted=False).annotate(value=value)
        clashing = list(present.filter(Exists(registry.filter(value=OuterRef("value"))))
                        .values_list("id", "validations", "value", f"json_ext__{UPDATE_KEY}"))
        holders = {}
        # an Exists, not ``value__in=[…]``: on SQLite Django reads the literals of an IN on a JSON key as JSON
        for found, individual_id in registry.filter(Exists(present.filter(value=OuterRef("value")))) \
                .values_list("value", "id"):
            holders.setdefault(found, set()).add(str(individual_id))
        for ds_id, validations, found, own_id in clashing:
            if job.update and holders.get(found, set()) <= {str(own_id)}:
                continue  # the value is the individual's own, the row updates it
            offenders.setdefault(ds_id, validations)["validation_errors"].append(
                {"field_name": name, "note": f"{name} '{found}' is already registered"})
    if offenders:
        bulk.update_rows(IndividualDataSource, ({"id": ds_id, "validations": validations}
                                                for ds_id, validations in offenders.items()),
                         fields=["validations"], user=user)
    return job.sources.filter(INVALID).count()


def _discard_staged(job, user):
    try:
        with transaction.atomic():
            bulk.soft_delete_with_history(job.sources, user=user)
    except Exception:
        logger.exception("Could not discard the staged rows of upload %s", job.upload.id)


def hand_over(job, user, total, invalid, force_task=False):
    """The maker-checker task (WAITING_FOR_VERIFICATION), or the valid rows applied at once without it."""
    from tasks_management.services import TaskService, TaskStatus, default_executor_event

    if not force_task and not job.target.maker_checker(job.update):
        set_status(job.upload.id, Status.IN_PROGRESS, user)
        return run_valid_items_workflow(job, user, None)
    record = job.record
    percentage = round(100 * invalid / total, 2) if total else 0
    with transaction.atomic():
        answer = TaskService(user).create({
            "source": "import_valid_items",
            "entity": record,
            "status": TaskStatus.RECEIVED,
            "executor_action_event": default_executor_event(),
            "business_event": job.target.business_event(job.update),
            "json_ext": {"source_name": job.upload.source_name, "workflow": record.workflow,
                         "percentage_of_invalid_items": percentage, "data_upload_id": str(job.upload.id),
                         "group_aggregation_column": job.meta.get("group_aggregation_column"),
                         "number_of_records": total, "number_of_invalid_records": invalid,
                         **job.target.task_json_ext()},
        })
        if not answer.get("success"):
            return fail(job.upload.id, user, "workflow", answer.get("detail") or answer.get("message"))
        return set_status(job.upload.id, Status.WAITING_FOR_VERIFICATION, user)


def request_approval(upload_id, user):
    """The maker-checker task of a staged upload that has none pending (e.g. staged while maker-checker was
    off and not yet applied)."""
    from tasks_management.services import pending_task_ids

    job = Job.load(upload_id)
    if job.upload.status in (Status.PENDING, Status.TRIGGERED, Status.IN_PROGRESS):
        raise ValidationError("The upload is still being read")
    record = job.record
    if record is not None and pending_task_ids([record.id], [job.target.business_event(job.update)]):
        raise ValidationError("An approval task is already pending for this upload")
    pending = job.sources.filter(individual__isnull=True).exclude(INVALID)
    if not pending.exists():
        raise ValidationError("No valid row of this upload waits to be imported")
    total = job.sources.count()
    return hand_over(job, user, total, job.sources.filter(INVALID).count(), force_task=True)


def run_valid_items_workflow(job, user, accepted):
    """The configured "valid items" workflow (``"<group>.<name>"``) on the upload: its failure is the upload's
    (``error = {"Task Resolve": …}``)."""
    from workflow.services import WorkflowService

    group, _, name = job.target.valid_items_workflow(job.update).partition(".")
    found = WorkflowService.get_workflow(name, group)
    if not found.get("success"):
        return fail(job.upload.id, user, "Task Resolve", found.get("message"))
    payload = {"user_uuid": str(user.id), "upload_uuid": str(job.upload.id), **job.target.payload(),
               "accepted": [str(i) for i in accepted] if accepted is not None else None}
    answer = found["data"]["workflow"].run(payload)
    if not answer.get("success"):
        return fail(job.upload.id, user, "Task Resolve", answer.get("message"))
    return answer


# --------------------------------------------------------------------------------------------------------------
# Applying the approved rows
# --------------------------------------------------------------------------------------------------------------
def apply(upload_id, user, accepted=None):
    """Write the valid, not yet applied rows (all, or those of ``accepted``) into the registry; then the
    households and the programme's enrolment; then the upload's status."""
    try:
        with transaction.atomic():
            job = Job.load(upload_id, lock=True)  # concurrent partial approvals of one upload queue here
            if job.upload.status == Status.FAIL:
                return job.upload
            pending = job.sources.filter(individual__isnull=True).exclude(INVALID)
            if accepted is not None:
                pending = pending.filter(id__in=list(accepted))
            now = timezone.now()
            if job.update:
                _apply_updates(job, pending, user, now)
            else:
                _create(job, pending, user, now)
            return _settle(job, user)
    except Exception as exc:
        logger.exception("Applying upload %s failed", upload_id)
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else (
            f"Import of the valid items failed ({exc.__class__.__name__})")
        return fail(upload_id, user, "Task Resolve", message)


def _create(job, pending, user, now):
    bulk.insert_from_select(Individual, pending, {
        "id": F("id"),
        "first_name": KT("json_ext__first_name"),
        "last_name": KT("json_ext__last_name"),
        "dob": Cast(KT("json_ext__dob"), DateField()),
        "json_ext": bulk.JSONWithoutKeys(F("json_ext"), NOT_ATTRIBUTES),
    }, user=user, now=now)
    bulk.update_with_history(pending, {"individual_id": F("id")}, user=user, now=now)
    bulk.analyze(Individual, IndividualDataSource)
    # this run's rows and individuals are those it stamped (its time and user): no join, no IN (subquery),
    # whose plans PostgreSQL got wrong on freshly loaded tables
    this_run = job.sources.filter(date_updated=now, user_updated=user, individual__isnull=False)
    created = Individual.objects.filter(date_created=now, user_created=user)
    groups = build_households(job, this_run, user, now)
    job.target.after_create(created, groups, user, now)


def _apply_updates(job, pending, user, now):
    rows = pending.values_list("id", "json_ext").order_by("id").iterator(chunk_size=BATCH_ROWS)
    with bulk.fewer_collections():
        for batch in _batches(rows, BATCH_ROWS):
            job.target.apply_updates(batch, user, now)
    bulk.analyze(IndividualDataSource)
    # then the households (individual.md §8.4): an updated individual without one joins the household its
    # row names; one already in a household stays there (moving people goes through the group services)
    in_household = GroupIndividual.objects.filter(individual_id=OuterRef("individual_id"), is_deleted=False)
    this_run = job.sources.filter(date_updated=now, user_updated=user, individual__isnull=False)
    groups = build_households(job, this_run.filter(~Exists(in_household)), user, now,
                              checked=job.target.group_upload_checked
                              and bool(IndividualConfig.enable_maker_checker_for_group_update))
    job.target.after_update(groups, user, now)


def update_individuals(rows, user, now):
    """``rows``: [(data source id, individual id, row json)]: names and dob overwritten where given, json_ext
    replaced by the row's attributes; the data sources linked to the individuals."""
    if not rows:
        return 0
    current = {str(i): (f, l, d) for i, f, l, d in Individual.objects.filter(
        id__in=[r[1] for r in rows]).values_list("id", "first_name", "last_name", "dob")}
    changes = []
    for _, individual_id, row in rows:
        first, last, dob = current[str(individual_id)]
        changes.append({"id": individual_id, "first_name": row.get("first_name") or first,
                        "last_name": row.get("last_name") or last, "dob": row.get("dob") or dob,
                        "json_ext": {k: v for k, v in row.items() if k not in NOT_ATTRIBUTES}})
    bulk.update_rows(Individual, changes, fields=["first_name", "last_name", "dob", "json_ext"], user=user,
                     now=now)
    bulk.update_rows(IndividualDataSource, ({"id": ds_id, "individual": individual_id}
                                            for ds_id, individual_id, _ in rows),
                     fields=["individual"], user=user, now=now)
    return len(rows)


def _settle(job, user):
    """The upload's status once a run is over: still WAITING_FOR_VERIFICATION while approved rows or
    households wait, else SUCCESS (every row valid) or PARTIAL_SUCCESS."""
    sources = job.sources
    rows_waiting = sources.filter(individual__isnull=True).exclude(INVALID).exists()
    groups_waiting = GroupDataSource.objects.filter(upload_id=job.upload.id, is_deleted=False,
                                                    group__isnull=True).exists()
    waiting = rows_waiting or groups_waiting
    linked = sources.filter(individual__isnull=False).count()
    invalid = sources.filter(INVALID).count()
    rejected = IndividualDataSource.objects.filter(upload_id=job.upload.id, is_deleted=True).count()
    if waiting:
        status = Status.WAITING_FOR_VERIFICATION
    else:
        status = Status.PARTIAL_SUCCESS if invalid or rejected else Status.SUCCESS
    upload = set_status(job.upload.id, status, user, rows_imported=linked, rows_rejected=rejected)
    # each task is done once its own items are all decided (the rows' task while households still wait)
    events = [*([] if rows_waiting else [job.target.business_event(job.update)]),
              *([] if groups_waiting else [IndividualConfig.validation_import_group_valid_items])]
    if events:
        _close_approval_tasks(job, user, events)
    return upload


def _close_approval_tasks(job, user, events):
    """Items decided one by one (partial votes) until none is left: the approval tasks of ``events`` are done."""
    from tasks_management.services import TaskService, pending_task_ids

    record = job.record
    if record is None:
        return
    for task_id in pending_task_ids([record.id], events):
        answer = TaskService(user).complete_task({"id": str(task_id)})
        if not answer.get("success"):
            logger.warning("Could not complete task %s of upload %s: %s", task_id, job.upload.id,
                           answer.get("detail"))


# --------------------------------------------------------------------------------------------------------------
# Households
# --------------------------------------------------------------------------------------------------------------
def build_households(job, rows_of_run, user, now, checked=None):
    """Group the individuals created from ``rows_of_run`` (data sources) by the aggregation column (rows without
    a value stay alone). With ``group_code`` a live group of that code is extended, else one is created with
    that code; any other column makes a new group with a random 8-character code per value. The groups
    wait for the checker (group data sources + ``import_group_valid_items`` task) when the target asks for
    it, else they are written now (``individual.households``, set-based). Answers the queryset of the groups
    written (none while waiting)."""
    if checked is None:
        checked = job.target.group_upload_checked and bool(IndividualConfig.enable_maker_checker_for_group_upload)
    if checked:
        if households.stage(rows_of_run, job.aggregation, job.upload.id, user, now):
            _group_task(job)
        return Group.objects.none()
    return households.write_from_rows(rows_of_run, job.aggregation, user, now,
                                      need_head=job.target.household_needs_head)


def _group_task(job):
    """One pending ``import_group_valid_items`` task per upload: later runs add households to it."""
    from tasks_management.services import TaskService, TaskStatus, default_executor_event, pending_task_exists

    record = job.record
    event = IndividualConfig.validation_import_group_valid_items
    if pending_task_exists([record.id], event):
        return None
    # the households come from the maker's file: the maker asks for them, so the checker can approve them
    answer = TaskService(job.upload.user_created).create({
        "source": "import_group_valid_items",
        "entity": record,
        "status": TaskStatus.RECEIVED,
        "executor_action_event": default_executor_event(),
        "business_event": event,
        "json_ext": {"source_name": job.upload.source_name, "workflow": record.workflow,
                     "data_upload_id": str(job.upload.id),
                     "group_aggregation_column": job.meta.get("group_aggregation_column")},
    })
    if not answer.get("success"):
        raise ValidationError(answer.get("detail") or answer.get("message"))
    return answer


def apply_groups(upload_id, user, accepted=None):
    """The approved households of an upload (all pending, or the ``accepted`` group data sources)."""
    try:
        with transaction.atomic():
            job = Job.load(upload_id, lock=True)
            pending = GroupDataSource.objects.filter(upload_id=upload_id, is_deleted=False, group__isnull=True)
            if accepted is not None:
                pending = pending.filter(id__in=list(accepted))
            # oldest first: the households of an earlier partial approval keep their head
            households.write_from_sources(pending, user, timezone.now())
            return _settle(job, user)
    except Exception as exc:
        logger.exception("Applying the households of upload %s failed", upload_id)
        return fail(upload_id, user, "Task Resolve", f"Households could not be created ({exc.__class__.__name__})")


def reject(upload_id, user, ids, groups=False):
    """Soft-delete rejected rows (not yet applied) of an upload; then its status."""
    model = GroupDataSource if groups else IndividualDataSource
    applied = "group__isnull" if groups else "individual__isnull"
    with transaction.atomic():
        job = Job.load(upload_id, lock=True)
        bulk.soft_delete_with_history(model.objects.filter(upload_id=upload_id, id__in=list(ids), **{applied: True}),
                                      user=user)
        return _settle(job, user)


# --------------------------------------------------------------------------------------------------------------
# Files back to the user
# --------------------------------------------------------------------------------------------------------------
def template_columns(target):
    properties = list((target.schema() or {}).get("properties", {}))
    helpers = ["recipient_info", "individual_role", "group_code"] if target.plan is None else \
        ["recipient_info", "group_code"]
    return [*CORE_COLUMNS, SYSTEM_COLUMN, *[p for p in properties if p not in (*CORE_COLUMNS, SYSTEM_COLUMN)],
            *[h for h in helpers if h not in properties]]


def invalid_rows(upload_id):
    """(columns, rows) of the upload's invalid, not deleted rows: the row's cells, ``id`` (the data source)
    and ``error`` (the reasons), in file order; rows are streamed."""
    sources = IndividualDataSource.objects.filter(upload_id=upload_id, is_deleted=False).filter(INVALID)
    upload = IndividualDataSourceUpload.objects.get(id=upload_id)
    columns = [c for c in ((upload.json_ext or {}).get("progress") or {}).get("columns", []) if c != SYSTEM_COLUMN]

    def rows():
        for ds_id, json_ext, validations in sources.order_by("validations__row", "id").values_list(
                "id", "json_ext", "validations").iterator(chunk_size=5000):
            reasons = "; ".join(f"{e.get('field_name')}: {e.get('note')}" if e.get("field_name") else e.get("note")
                                for e in (validations or {}).get("validation_errors", []))
            yield [*("" if json_ext.get(c) is None else json_ext.get(c) for c in columns), str(ds_id), reasons]

    return [*columns, "id", "error"], rows()


# --------------------------------------------------------------------------------------------------------------
# The checker's decisions (bound to task_service.complete_task / resolve_task in signals.py)
# --------------------------------------------------------------------------------------------------------------
def upload_task(task):
    """``(job, "rows"|"groups")`` when ``task`` (a task dict) approves an upload of this pipeline, else
    ``(None, None)``."""
    upload_id = (task.get("json_ext") or {}).get("data_upload_id")
    event = task.get("business_event")
    if not upload_id or task.get("source") not in ("import_valid_items", "import_group_valid_items"):
        return None, None
    upload = IndividualDataSourceUpload.objects.filter(id=upload_id).first()
    if upload is None or "mode" not in (upload.json_ext or {}):
        return None, None  # not a file upload (an enrolment's upload has its own handler)
    job = Job(upload, ImportTarget.of(upload))
    if task.get("source") == "import_group_valid_items" and event == IndividualConfig.validation_import_group_valid_items:
        return job, "groups"
    if event == job.target.business_event(job.update):
        return job, "rows"
    return None, None


def on_task_completed(task, user):
    from core.scheduling import enqueue_on_commit
    from individual.tasks import apply_group_upload
    from tasks_management.services import TaskStatus

    job, kind = upload_task(task)
    if job is None:
        return None
    if task.get("status") != TaskStatus.COMPLETED:
        if kind == "groups":
            pending = GroupDataSource.objects.filter(upload_id=job.upload.id, is_deleted=False, group__isnull=True)
            return reject(job.upload.id, user, list(pending.values_list("id", flat=True)), groups=True)
        undecided = job.sources.filter(individual__isnull=True).exclude(INVALID)
        if job.sources.filter(individual__isnull=False).exists():
            # rows approved one by one earlier stay imported; the checker's "no" sets the rest aside
            return reject(job.upload.id, user, list(undecided.values_list("id", flat=True)))
        return fail(job.upload.id, user, "Task Resolve", "Rejected by the checker")
    if kind == "groups":
        enqueue_on_commit(apply_group_upload, str(job.upload.id), str(user.id))
        return None
    return run_valid_items_workflow(job, user, None)


def _row_ids(values):
    """The ids of a vote that can name a row (uuids); anything else names no row and is dropped, so a stray
    value neither fails the upload nor the checker's vote."""
    ids = []
    for value in values if isinstance(values, list) else []:
        try:
            ids.append(str(uuid.UUID(str(value))))
        except ValueError:
            continue
    return ids


def on_task_vote(task, user, vote):
    """A partial vote ``{"ACCEPT": [ids], "REJECT": [ids]}`` on an upload's task: rejected rows are set
    aside, accepted ones applied (a row already applied or set aside is not touched again)."""
    from core.scheduling import enqueue_on_commit
    from individual.tasks import apply_group_upload

    job, kind = upload_task(task)
    if job is None or not isinstance(vote, dict):
        return None
    rejected = _row_ids(vote.get("REJECT"))
    accepted = [i for i in _row_ids(vote.get("ACCEPT")) if i not in rejected]
    if rejected:
        reject(job.upload.id, user, rejected, groups=kind == "groups")
    if accepted:
        if kind == "groups":
            enqueue_on_commit(apply_group_upload, str(job.upload.id), str(user.id), accepted)
        else:
            run_valid_items_workflow(job, user, accepted)
    return None
