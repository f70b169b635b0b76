"""The number of SQL statements of an upload does not depend on its number of rows (imports.py docstring)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from individual.models import Group, Individual
from social_protection.models import GroupBeneficiary

from .conftest import approve, csv_file, post_import, upload_of


def rows(count, households, run):
    """``count`` rows in ``households`` households of codes of their own (``run``), and one invalid row."""
    return [f"P{i},Fam{i % households},1990-01-{1 + i % 28:02},p{i}@example.org,{run}-N{i},{i % 4},true,primary,"
            f"{run}-H{i % households},{'HEAD' if i < households else 'SON'},{1 if i < households else ''}"
            for i in range(count)] + [f"Bad,Row,06/05/1980,bad@example.org,{run}-X,1,no,none,{run}-H0,,"]


def shapes(captured):
    """The statements, literals masked, to compare two runs."""
    import re

    return "\n".join(re.sub(r"'[^']*'|\b\d+\b", "?", q["sql"])[:200] for q in captured.captured_queries)


def statements_of(post, checker, expected, task_sources=("import_valid_items",)):
    """(statement count, captured) of ``post()`` (the upload) and the checker's approvals."""
    with CaptureQueriesContext(connection) as captured:
        upload = upload_of(post())
        for source in task_sources:
            approve(checker, source)
    upload.refresh_from_db()
    assert upload.status == expected, upload.error
    return len(captured), captured


def statements_of_individual_upload(clerk, checker, count, name):
    return statements_of(lambda: post_import(clerk, csv_file(rows(count, count // 4, name), name=name)), checker,
                         "PARTIAL_SUCCESS", ("import_valid_items", "import_group_valid_items"))


@pytest.mark.django_db
def test_individual_upload_cost_does_not_grow_with_rows(clerk, checker, schema):
    statements_of_individual_upload(clerk, checker, 4, "warm.csv")  # caches (rights, content types) filled
    small, _ = statements_of_individual_upload(clerk, checker, 20, "small.csv")
    assert Individual.objects.count() == 24
    assert Group.objects.count() == 6
    large, captured = statements_of_individual_upload(clerk, checker, 200, "large.csv")
    assert Individual.objects.count() == 224
    assert Group.objects.count() == 56
    assert large == small, shapes(captured)


def statements_of_plan_upload(clerk, checker, plan, count, name):
    header = "first_name,last_name,dob,email,national_id,number_of_children,able_bodied,educated_level,group_code," \
             "individual_role,recipient_info"
    return statements_of(lambda: post_import(
        clerk, csv_file(rows(count, count // 4, name), name=name, header=header), workflow="Python Beneficiaries Upload",
        group="socialProtection", url="/api/social_protection/import_beneficiaries/", benefit_plan=str(plan.id),
        group_aggregation_column="group_code"), checker, "PARTIAL_SUCCESS")


@pytest.mark.django_db
def test_group_plan_upload_cost_does_not_grow_with_rows(clerk, checker, schema, plan_factory):
    plan = plan_factory(type="GROUP", schema={})
    statements_of_plan_upload(clerk, checker, plan, 4, "warm.csv")
    small, _ = statements_of_plan_upload(clerk, checker, plan, 20, "small.csv")
    assert GroupBeneficiary.objects.count() == 6
    large, captured = statements_of_plan_upload(clerk, checker, plan, 200, "large.csv")
    assert GroupBeneficiary.objects.count() == 56
    assert large == small, shapes(captured)


def statements_of_update(clerk, checker, admin_user, count, name):
    from tests.individual.factories import IndividualFactory

    people = [IndividualFactory(first_name=f"U{i}", last_name="Old", json_ext={}, acting_user=admin_user)
              for i in range(count)]
    lines = [f"{p.id},New{i},,1991-01-01,{name}-N{i}" for i, p in enumerate(people)]
    return statements_of(lambda: post_import(
        clerk, csv_file(lines, name=name, header="ID,first_name,last_name,dob,national_id"),
        workflow="Python Update Individuals"), checker, "SUCCESS")


@pytest.mark.django_db
def test_update_cost_does_not_grow_with_rows(clerk, checker, schema, admin_user):
    statements_of_update(clerk, checker, admin_user, 4, "warm.csv")
    small, _ = statements_of_update(clerk, checker, admin_user, 20, "small.csv")
    large, captured = statements_of_update(clerk, checker, admin_user, 200, "large.csv")
    assert Individual.objects.filter(first_name="New199").count() == 1
    assert large == small, shapes(captured)
