"""Searchable JSON keys get the indexes their filters use (PostgreSQL), follow schema changes, and the planner
can answer the custom filters from them."""
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection

from core.custom_filters import custom_filter_q
from core.json_indexes import TEXT, VALUE, searchable_keys, sync_json_indexes
from individual.apps import IndividualConfig
from individual.models import Individual
from social_protection.models import Beneficiary
from tests.individual.factories import IndividualFactory
from tests.social_protection.factories import BenefitPlanFactory

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="JSON indexes are PostgreSQL's")

SCHEMA = {"type": "object", "properties": {
    "educated_level": {"type": "string", "searchable": True},
    "number_of_children": {"type": "integer", "searchable": True},
    "registered_on": {"type": "string", "format": "date", "searchable": True},
    "able_bodied": {"type": ["boolean", "null"], "searchable": True},
    "notes": {"type": "string"},  # not searchable: no index
}}


def test_searchable_keys_and_their_kind():
    assert searchable_keys(SCHEMA) == {"educated_level": TEXT, "number_of_children": VALUE,
                                       "registered_on": VALUE, "able_bodied": VALUE}
    assert searchable_keys(json.dumps(SCHEMA)) == searchable_keys(SCHEMA)
    assert searchable_keys("not json") == searchable_keys(None) == searchable_keys({"properties": []}) == {}


def jx_indexes(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname LIKE 'jx%%'",
                       [table])
        return dict(cursor.fetchall())


def plan_of(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@postgresql_only
def test_the_individual_schema_indexes_serve_the_custom_filters(set_config):
    set_config(IndividualConfig, individual_schema=json.dumps(SCHEMA))
    IndividualFactory(json_ext={"educated_level": "primary", "number_of_children": 3})
    done = sync_json_indexes()
    indexes = jx_indexes("individual_individual")
    assert sorted(done["created"]) == sorted(indexes) and len(indexes) == 5  # text: B-tree and trigram
    assert not any("notes" in definition for definition in indexes.values())
    for text in ("educated_level__iexact__string=primary", "educated_level__istartswith__string=pr",
                 "educated_level__icontains__string=rim", "number_of_children__gte__integer=2",
                 "able_bodied__exact__boolean=true", "registered_on__lt__date=2024-01-01"):
        plan = plan_of(Individual.objects.filter(custom_filter_q([text])))
        assert "jx_" in plan, (text, plan)
    assert Individual.objects.filter(custom_filter_q(["educated_level__icontains__string=rim"])).count() == 1

    assert sync_json_indexes() == {"created": [], "dropped": []}  # nothing to do twice
    set_config(IndividualConfig, individual_schema=json.dumps({"properties": {"educated_level": {
        "type": "string", "searchable": True}}}))
    done = sync_json_indexes(dry_run=True)
    assert len(done["dropped"]) == 3 and len(jx_indexes("individual_individual")) == 5  # dry run: told only
    sync_json_indexes()
    assert len(jx_indexes("individual_individual")) == 2


@postgresql_only
def test_a_plan_schema_change_reindexes_its_beneficiaries_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        plan = BenefitPlanFactory(beneficiary_data_schema={"properties": {"income": {"type": "number",
                                                                                      "searchable": True}}})
    assert callbacks and len(jx_indexes(Beneficiary._meta.db_table)) == 1
    plan = type(plan).objects.get(id=plan.id)
    plan.name = "renamed"
    with django_capture_on_commit_callbacks() as callbacks:
        plan.save(user=plan.user_created)
    assert callbacks == []  # the schema did not change
    plan.beneficiary_data_schema = {"properties": {"income": {"type": "number"}}}
    with django_capture_on_commit_callbacks(execute=True):
        plan.save(user=plan.user_created)
    assert jx_indexes(Beneficiary._meta.db_table) == {}


def test_the_command_says_what_it_would_do(set_config):
    set_config(IndividualConfig, individual_schema=json.dumps(SCHEMA))
    stdout = io.StringIO()
    call_command("index_json_fields", "--dry-run", stdout=stdout)
    out = stdout.getvalue().splitlines()
    if connection.vendor == "postgresql":
        assert out[0].startswith("would create: jx_") and out[1] == "would drop: none"
        assert jx_indexes("individual_individual") == {}
    else:
        assert out == ["Nothing to do: JSON indexes are built on PostgreSQL only."]
