"""Data migration 0004: tasks name their business-data serializer by its registered name."""
import importlib

import pytest
from django.apps import apps

from tasks_management.models import Task
from tests.tasks_management.factories import TaskFactory

migration = importlib.import_module("tasks_management.migrations.0004_business_data_serializer_names")

OLD = "individual.services.IndividualService._business_data_serializer"


def test_the_rewrite_rule():
    assert migration.registered_name(OLD) == "individual.IndividualService"
    assert migration.registered_name("social_protection.services.GroupBeneficiaryService._business_data_serializer") \
        == "social_protection.GroupBeneficiaryService"
    assert migration.registered_name("pkg.sub.module.Service._business_data_serializer") == "pkg.Service"
    for other in (None, "", "individual.IndividualService", "individual.services.IndividualService.other",
                  "Service._business_data_serializer", "a..Service._business_data_serializer"):
        assert migration.registered_name(other) is None, other
    assert migration.dotted_path("individual.IndividualService") == OLD
    assert migration.dotted_path(OLD) is None


@pytest.mark.django_db
def test_stored_names_are_rewritten_and_back():
    tasks = [TaskFactory(business_data_serializer=value) for value in (OLD, OLD, "custom", None)]

    def stored():
        return [Task.objects.get(id=t.id).business_data_serializer for t in tasks]

    migration.forward(apps, None)
    assert stored() == ["individual.IndividualService", "individual.IndividualService", "custom", None]
    assert all(t.history.count() == 1 for t in tasks)  # the audit trail keeps what was stored then
    migration.backward(apps, None)
    assert stored() == [OLD, OLD, "custom", None]
