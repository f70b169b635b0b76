"""Contacts and reports of the registry for the rules engine (task_rules.md §11): individuals and households
(groups) are contacts; individual data-source records (uploaded rows) are reports about their individual."""
from tasks_management.services import ContactAdapter, ReportSource, register_contact_type, register_report_source

register_contact_type(ContactAdapter(
    type="individual", model="individual.Individual",
    label=lambda obj: f"{obj.first_name} {obj.last_name}",
    only=("id", "first_name", "last_name", "date_created", "is_deleted", "json_ext", "location_id"),
))
register_contact_type(ContactAdapter(
    type="group", model="individual.Group",
    label=lambda obj: obj.code,
    only=("id", "code", "date_created", "is_deleted", "json_ext", "location_id"),
))
register_report_source(ReportSource(
    name="individual_data_source", model="individual.IndividualDataSource", form="individual_data_source",
    subject_type="individual", subject_field="individual",
    fields=lambda obj: {"upload_id": str(obj.upload_id) if obj.upload_id else None, **(obj.json_ext or {})},
    only=("id", "individual_id", "upload_id", "json_ext", "date_created", "is_deleted"),
))
