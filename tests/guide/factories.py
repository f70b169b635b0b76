import factory

from tests.factories import HistoryModelFactory, LocationFactory, mutation_link_factory
from tests.guide.test_app.models import Visit, VisitMutation


class VisitFactory(HistoryModelFactory):
    class Meta:
        model = Visit

    subject = factory.Sequence(lambda n: f"Visit {n}")
    location = factory.SubFactory(LocationFactory)
    json_ext = factory.LazyFunction(lambda: {"phone": "+255700000001"})


VisitMutationFactory = mutation_link_factory(VisitMutation, "visit", VisitFactory)
