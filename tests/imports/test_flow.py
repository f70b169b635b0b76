import pytest

from individual.models import Group, GroupIndividual, Individual, IndividualDataSource, IndividualDataSourceUpload

from .conftest import committed, csv_file, post_import

ROWS = [
    "Ann,One,1990-01-02,ann@example.org,N1,2,true,primary,H1,HEAD,1",
    "Bob,One,1992-03-04,bob@example.org,N2,0,yes,secondary,H1,SPOUSE,0",
    "Cid,Two,1980-05-06,cid@example.org,N3,1,no,none,H2,head,1",
    "Bad,Date,06/05/1980,bad@example.org,N4,1,no,none,H2,SON,0",
    "Dup,Id,1980-05-06,dup@example.org,N3,x,maybe,phd,H3,KING,0",
]


@pytest.mark.django_db
def test_upload_validates_waits_for_checker_then_imports(clerk, checker, schema):
    from tasks_management.models import Task
    from tasks_management.services import TaskService

    response = post_import(clerk, csv_file(ROWS))
    assert response.status_code == 200, response.content
    upload = IndividualDataSourceUpload.objects.get(id=response.json()["data"]["upload_uuid"])
    assert upload.status == "WAITING_FOR_VERIFICATION", upload.error
    sources = IndividualDataSource.objects.filter(upload=upload)
    assert sources.count() == 5
    invalid = {s.json_ext["first_name"]: s.validations["validation_errors"] for s in sources
               if s.validations["validation_errors"]}
    assert set(invalid) == {"Bad", "Dup", "Cid"}, invalid
    task = Task.objects.get(source="import_valid_items")
    assert task.status == "ACCEPTED"
    result = TaskService(clerk).resolve_task({"id": str(task.id), "business_status": {str(clerk.id): "APPROVED"}})
    assert not result["success"]  # the maker cannot approve
    with committed():
        result = TaskService(checker).resolve_task({"id": str(task.id),
                                                    "business_status": {str(checker.id): "APPROVED"}})
    assert result["success"], result
    upload.refresh_from_db()
    assert Individual.objects.filter(first_name__in=["Ann", "Bob"]).count() == 2, upload.error
    assert upload.status == "WAITING_FOR_VERIFICATION", upload.error  # the households wait
    group_task = Task.objects.get(source="import_group_valid_items")
    with committed():
        result = TaskService(checker).resolve_task({"id": str(group_task.id),
                                                    "business_status": {str(checker.id): "APPROVED"}})
    assert result["success"], result
    group_task.refresh_from_db()
    assert group_task.status == "COMPLETED", group_task.json_ext
    upload.refresh_from_db()
    assert upload.status == "PARTIAL_SUCCESS", upload.error
    group = Group.objects.get(code="H1")
    members = GroupIndividual.objects.filter(group=group)
    assert {(m.individual.first_name, m.role, m.recipient_type) for m in members} == {
        ("Ann", "HEAD", "PRIMARY"), ("Bob", "SPOUSE", None)}
    ann = Individual.objects.get(first_name="Ann")
    assert ann.json_ext == {"email": "ann@example.org", "national_id": "N1", "number_of_children": 2,
                            "able_bodied": True, "educated_level": "primary"}
    assert ann.history.count() == 1
    assert group.json_ext["head"] == "Ann One"
