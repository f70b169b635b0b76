"""factory_boy factories of the individual registry: each makes a valid row saved with history, as the services
write it (``HistoryModel.save(user=…)``; pass ``acting_user=`` to choose the author).

A membership saved through its factory runs the alignment rules (spec §6.2) like any membership save."""
import datetime

import factory

from individual.models import (
    Group,
    GroupDataSource,
    GroupIndividual,
    GroupMutation,
    Individual,
    IndividualDataSource,
    IndividualDataSourceUpload,
    IndividualDataUploadRecords,
    IndividualMutation,
)
from tests.factories import HistoryModelFactory, mutation_link_factory


class IndividualFactory(HistoryModelFactory):
    class Meta:
        model = Individual

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    dob = datetime.date(1990, 1, 1)
    json_ext = factory.LazyFunction(dict)


class GroupFactory(HistoryModelFactory):
    class Meta:
        model = Group

    code = factory.Sequence(lambda n: f"G{n:05}")
    json_ext = factory.LazyFunction(dict)


class GroupIndividualFactory(HistoryModelFactory):
    class Meta:
        model = GroupIndividual

    group = factory.SubFactory(GroupFactory)
    individual = factory.SubFactory(IndividualFactory)
    json_ext = factory.LazyFunction(dict)


class IndividualDataSourceUploadFactory(HistoryModelFactory):
    class Meta:
        model = IndividualDataSourceUpload

    source_name = factory.Sequence(lambda n: f"upload-{n:05}.csv")
    source_type = "individual import"


class IndividualDataSourceFactory(HistoryModelFactory):
    """One uploaded row, linked to the individual it created."""

    class Meta:
        model = IndividualDataSource

    upload = factory.SubFactory(IndividualDataSourceUploadFactory)
    individual = factory.SubFactory(IndividualFactory)
    json_ext = factory.LazyAttribute(lambda o: {"first_name": o.individual.first_name,
                                                "last_name": o.individual.last_name} if o.individual else {})


class IndividualDataUploadRecordsFactory(HistoryModelFactory):
    class Meta:
        model = IndividualDataUploadRecords

    data_upload = factory.SubFactory(IndividualDataSourceUploadFactory)
    workflow = "Python Import Individuals"
    json_ext = factory.LazyFunction(lambda: {"group_aggregation_column": None})


class GroupDataSourceFactory(HistoryModelFactory):
    """A group of an upload, materialised (``group`` set)."""

    class Meta:
        model = GroupDataSource

    upload = factory.SubFactory(IndividualDataSourceUploadFactory)
    group = factory.SubFactory(GroupFactory)
    json_ext = factory.LazyAttribute(lambda o: {"code": o.group.code, "individuals_data": []} if o.group else {})


IndividualMutationFactory = mutation_link_factory(IndividualMutation, "individual", IndividualFactory)


GroupMutationFactory = mutation_link_factory(GroupMutation, "group", GroupFactory)
