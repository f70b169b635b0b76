"""Every model of individual and social_protection has a factory making a valid row, saved as services save it."""
import pytest

from core.models import HistoryModel
from tests.factories import factory_for
from tests.individual import factories as individual_factories
from tests.social_protection import factories as social_protection_factories

pytestmark = pytest.mark.django_db

MODELS = [factory._meta.model for module in (individual_factories, social_protection_factories)
          for factory in vars(module).values() if isinstance(factory, type) and hasattr(factory, "_meta")
          and getattr(factory._meta, "model", None) is not None and factory.__module__ == module.__name__]


def test_every_model_of_the_apps_has_a_factory():
    from django.apps import apps

    models = {m for label in ("individual", "social_protection") for m in apps.get_app_config(label).get_models()}
    live = {m for m in models if not m._meta.label.split(".")[1].startswith("Historical")}
    assert live == set(MODELS), live ^ set(MODELS)


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_factory_row_is_saved_with_its_history(model, admin_user):
    obj = factory_for(model)(acting_user=admin_user) if issubclass(model, HistoryModel) else factory_for(model)()
    assert model.objects.filter(pk=obj.pk).exists()
    if issubclass(model, HistoryModel):
        assert obj.user_created == admin_user and obj.history.filter(history_type="+").count() == 1
