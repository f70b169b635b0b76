import factory

from tests.factories import HistoryModelFactory, LocationFactory
from tests.guide.test_app.models import Visit


class VisitFactory(HistoryModelFactory):
    class Meta:
        model = Visit

    subject = factory.Sequence(lambda n: f"Visit {n}")
    location = factory.SubFactory(LocationFactory)
    json_ext = factory.LazyFunction(lambda: {"phone": "+255700000001"})
