"""Update files (workflow ``Python Update Individuals``, individual.md §8.3): ``ID`` names the individual."""
import uuid

import pytest

from individual.models import Individual, IndividualDataSource

from .conftest import approve, csv_file, post_import, upload_of

HEADER = "ID,first_name,last_name,dob,email,national_id,number_of_children"


@pytest.fixture
def people(admin_user):
    from tests.individual.factories import IndividualFactory

    return [IndividualFactory(first_name=f"P{i}", last_name="Old", dob="1990-01-01",
                              json_ext={"national_id": f"N{i}", "email": f"p{i}@example.org"}, acting_user=admin_user)
            for i in range(3)]


@pytest.mark.django_db
def test_update_file(clerk, checker, schema, people):
    first, second, third = people
    unknown = uuid.uuid4()
    rows = [
        f"{first.id},Anna,,1991-02-03,anna@example.org,N0,3",   # blank last name keeps the old one
        f"{second.id},,,,b@example.org,,",                      # only attributes
        f"{unknown},Ghost,Row,1990-01-01,g@example.org,N7,1",
        "not-an-id,Bad,Id,1990-01-01,x@example.org,N8,1",
        f"{third.id},Taken,Id,1990-01-01,t@example.org,N1,1",  # N1 is the second person's
    ]
    upload = upload_of(post_import(clerk, csv_file(rows, header=HEADER), workflow="Python Update Individuals"))
    upload.refresh_from_db()
    assert upload.status == "WAITING_FOR_VERIFICATION", upload.error
    errors = {s.json_ext.get("first_name"): [e["field_name"] for e in s.validations["validation_errors"]]
              for s in IndividualDataSource.objects.filter(upload=upload)}
    assert errors == {"Anna": [], None: [], "Ghost": ["ID"], "Bad": ["ID"], "Taken": ["national_id"]}
    approve(checker)
    upload.refresh_from_db()
    assert upload.status == "PARTIAL_SUCCESS", upload.error
    first.refresh_from_db()
    second.refresh_from_db()
    third.refresh_from_db()
    assert (first.first_name, first.last_name, str(first.dob)) == ("Anna", "Old", "1991-02-03")
    assert first.json_ext == {"email": "anna@example.org", "national_id": "N0", "number_of_children": 3}
    assert (second.first_name, second.last_name, str(second.dob)) == ("P1", "Old", "1990-01-01")
    assert second.json_ext == {"email": "b@example.org"}  # json_ext is replaced by the row's attributes
    assert (third.first_name, third.json_ext["national_id"]) == ("P2", "N2")
    for person, changed in ((first, True), (second, True), (third, False)):
        history = list(person.history.order_by("history_date").values_list("history_type", flat=True))
        assert history == (["+", "~"] if changed else ["+"])
    assert Individual.objects.count() == 3
    linked = {s.individual_id for s in IndividualDataSource.objects.filter(upload=upload, individual__isnull=False)}
    assert linked == {first.id, second.id}


@pytest.mark.django_db
def test_update_file_repeating_an_id(clerk, checker, schema, people):
    first = people[0]
    rows = [f"{first.id},A,,,,N0,1", f"{first.id},B,,,,N0,2"]
    upload = upload_of(post_import(clerk, csv_file(rows, header=HEADER), workflow="Python Update Individuals"))
    upload.refresh_from_db()
    assert upload.status == "FAIL"  # both rows name the same individual: none is valid
    for source in IndividualDataSource.objects.filter(upload=upload):
        assert "ID" in [e["field_name"] for e in source.validations["validation_errors"]]


@pytest.mark.django_db
def test_an_update_puts_people_without_a_household_into_the_one_their_row_names(clerk, checker, schema, admin_user):
    from individual.models import Group, GroupIndividual
    from tests.individual.factories import GroupFactory, GroupIndividualFactory, IndividualFactory

    alone = IndividualFactory(first_name="Alone", last_name="Old", json_ext={}, acting_user=admin_user)
    housed = IndividualFactory(first_name="Housed", last_name="Old", json_ext={}, acting_user=admin_user)
    home = GroupFactory(code="HOME", acting_user=admin_user)
    GroupIndividualFactory(group=home, individual=housed, role="HEAD", acting_user=admin_user)
    lines = [f"{alone.id},Alone,New,1990-01-01,NEW-H,HEAD,1", f"{housed.id},Housed,New,1990-01-01,NEW-H,SON,0"]
    upload = upload_of(post_import(clerk, csv_file(lines, name="move.csv",
                                                   header="ID,first_name,last_name,dob,group_code,individual_role,"
                                                          "recipient_info"),
                                   workflow="Python Update Individuals"))
    approve(checker)
    approve(checker, "import_group_valid_items")
    upload.refresh_from_db()
    assert upload.status == "SUCCESS", upload.error
    new_home = Group.objects.get(code="NEW-H")
    assert list(GroupIndividual.objects.filter(group=new_home).values_list("individual_id", "role")) == [
        (alone.id, "HEAD")]
    # the one already housed stays in their household
    assert list(GroupIndividual.objects.filter(individual=housed, is_deleted=False).values_list("group__code",
                                                                                                  flat=True)) == ["HOME"]
