"""Demo registry: a few hundred individuals in households across the seeded villages, a few without location;
the individual schema the upload dialog checks files against; fake upload files (``fake_individuals --csv``)."""
import csv
import datetime
import json
import random

from individual.bulk import EDUCATION, NON_HEAD_ROLES, create_households
from individual.models import Individual

DEMO_MARKER = "demo_individual"

# The attributes of the demo registry and of fake upload files (spec individual.md §10), as the JSON Schema
# of Individual.json_ext that uploads are validated against.
DEMO_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "email": {"type": "string", "validationCalculation": {"name": "EmailValidationStrategy"}},
        "able_bodied": {"type": "boolean"},
        "national_id": {"type": "string", "uniqueness": True},
        "national_id_type": {"type": "string"},
        "educated_level": {"type": "string", "enum": EDUCATION},
        "chronic_illness": {"type": "boolean"},
        "number_of_elderly": {"type": "integer", "minimum": 0},
        "number_of_children": {"type": "integer", "minimum": 0},
        "beneficiary_data_source": {"type": "string"},
    },
}
UPLOAD_COLUMNS = ["first_name", "last_name", "dob", "group_code", "recipient_info", "individual_role", "email",
                  "able_bodied", "national_id", "national_id_type", "educated_level", "chronic_illness",
                  "number_of_elderly", "number_of_children", "beneficiary_data_source"]
FIRST = ["Amina", "Bilal", "Chen", "Dara", "Elif", "Femi", "Gita", "Hugo", "Ines", "Jomo", "Kofi", "Lena", "Musa",
         "Nia", "Omar", "Priya", "Rosa", "Sami", "Tariq", "Uma"]
LAST = ["Okafor", "Nguyen", "Silva", "Haddad", "Kumar", "Mensah", "Rossi", "Tanaka", "Ali", "Kowalski"]
# what a bad row looks like, one kind per bad row in turn: (column, bad value) — each breaks one rule
BAD_CELLS = [("dob", "31/12/1980"), ("number_of_children", "-2"), ("email", "not-an-email"),
             ("educated_level", "doctorate"), ("first_name", ""), ("able_bodied", "perhaps"),
             ("number_of_elderly", "=1+1"), ("national_id", "DUPLICATE")]


DEMO_UPLOAD = "demo-people.csv"


def contribute(ctx):
    _demo_schema(ctx)
    _demo_upload(ctx)
    if Individual.objects.filter(**{f"json_ext__{DEMO_MARKER}": True}).exists():
        ctx.log("individual: demo registry already present")
        return
    villages = list(ctx.villages) or [None]
    individuals, groups = create_households(ctx.admin, 300, 5, villages, seed=4, marker=DEMO_MARKER)
    loose, _ = create_households(ctx.admin, 10, 0, [None], seed=5, marker=DEMO_MARKER)
    ctx.log(f"individual: {individuals} individuals in {groups} households, {loose} without location or household")
    _demo_update_request(ctx)


def _demo_update_request(ctx):
    """A change of an individual waiting for approval (source ``IndividualService``, the frontend's "Individual
    update tasks" panel): the admin asks, the Checker approves (the tasks demo puts it in demo-approvers)."""
    from individual.services import IndividualService

    person = (Individual.objects.filter(**{f"json_ext__{DEMO_MARKER}": True}, is_deleted=False)
              .exclude(location=None).order_by("date_created", "id").first())
    if person is None:
        return
    json_ext = {**(person.json_ext or {}), "number_of_children": int((person.json_ext or {}).get(
        "number_of_children") or 0) + 1}
    result = IndividualService(ctx.admin).create_update_task(
        {"id": str(person.id), "first_name": person.first_name, "last_name": person.last_name, "dob": person.dob,
         "json_ext": json_ext})
    ctx.log(f"individual: update of {person.first_name} {person.last_name} (one more child) waiting for approval"
            if result.get("success") else f"individual: no demo update request ({result.get('detail')})")


def _demo_upload(ctx):
    """An upload of 50 people (4 invalid rows) by the admin, validated and waiting for a checker: the upload
    history, the invalid items and the approval task have something to show (the Checker approves it)."""
    import os
    import tempfile

    from django.core.files import File

    from individual import imports
    from individual.workflows import start_validation
    from workflow.services import WorkflowService

    if imports.IndividualDataSourceUpload.objects.filter(source_name=DEMO_UPLOAD).exists():
        return
    found = WorkflowService.get_workflow("Python Import Individuals", "individual")
    if not found.get("success"):
        ctx.log(f"individual: no demo upload ({found.get('message')})")
        return
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, DEMO_UPLOAD)
        write_upload_csv(path, 50, bad_rows=4, seed=11)
        with open(path, "rb") as handle:
            upload = imports.receive(ctx.admin, imports.ImportTarget(), import_file=File(handle, name=DEMO_UPLOAD),
                                     workflow=found["data"]["workflow"], dispatch=False)
    imports.set_status(upload.id, imports.Status.TRIGGERED, ctx.admin)
    start_validation(upload.id, ctx.admin.id, update=False, progress=lambda rows: None)
    upload.refresh_from_db()
    ctx.log(f"individual: demo upload {DEMO_UPLOAD} {upload.status} (the Checker approves its task)")


def _demo_schema(ctx):
    """The demo's individual schema, unless the installation configured the module already."""
    from core.module_config import store_config, stored_config

    if stored_config("individual")[1].get("individual_schema") not in (None, "{}", {}):
        return
    store_config("individual", {"individual_schema": json.dumps(DEMO_SCHEMA)})
    ctx.log("individual: demo individual_schema configured (uploads are checked against it)")


def write_upload_csv(path, count, group_size=5, bad_rows=0, seed=None):
    """A fake upload file: ``count`` people in households of ``group_size`` (``group_code``; the first member
    HEAD and primary recipient), ``bad_rows`` of them each breaking one rule (see ``BAD_CELLS``). National
    ids are unique per seed run. Answers the number of rows written."""
    rnd = random.Random(seed)
    run = rnd.getrandbits(32)
    bad = set(rnd.sample(range(count), min(bad_rows, count)))
    today = datetime.date.today()
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, UPLOAD_COLUMNS)
        writer.writeheader()
        for i in range(count):
            position = i % group_size if group_size else 0
            row = {
                "first_name": rnd.choice(FIRST), "last_name": rnd.choice(LAST),
                "dob": (today - datetime.timedelta(days=rnd.randint(18 * 365 if position == 0 else 0, 90 * 365)))
                .isoformat(),
                "group_code": f"UP-{run:08x}-{i // group_size}" if group_size else "",
                "recipient_info": 1 if position == 0 else 0,
                "individual_role": "HEAD" if position == 0 else rnd.choice(NON_HEAD_ROLES),
                "email": f"person{i}.{run:x}@example.org", "able_bodied": rnd.random() > 0.1,
                "national_id": f"NID-{run:08x}-{i:07d}", "national_id_type": "national_card",
                "educated_level": rnd.choice(EDUCATION), "chronic_illness": rnd.random() < 0.2,
                "number_of_elderly": rnd.randint(0, 2), "number_of_children": rnd.randint(0, 6),
                "beneficiary_data_source": "fake_individuals",
            }
            if i in bad:
                column, value = BAD_CELLS[len([b for b in bad if b < i]) % len(BAD_CELLS)]
                row[column] = f"NID-{run:08x}-{0:07d}" if value == "DUPLICATE" else value
            writer.writerow({k: str(v).lower() if isinstance(v, bool) else v for k, v in row.items()})
    return count
