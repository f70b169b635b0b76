"""Every model of every module (the guide module included) has a factory that makes a valid row, saved the way
services save it; the node(id:) sweep and the tests build their data through them."""
import pytest
from django.apps import apps
from django.conf import settings

from core.models import HistoryModel
from tests.factories import factory_for

pytestmark = pytest.mark.django_db

LABELS = {config.label for config in apps.get_app_configs() if config.name in settings.OPENIMIS_MODULES}
# core's plumbing (not business records; made by their own services in tests)
WITHOUT_FACTORY = {"core.Language", "core.ModuleConfiguration", "core.ExportableQueryModel", "core.RevokedToken",
                   "core.UserRole", "core.RoleMutation", "core.UserMutation"}
MODELS = sorted((m for label in LABELS for m in apps.get_app_config(label).get_models()
                 if not m._meta.object_name.startswith("Historical") and m._meta.label not in WITHOUT_FACTORY),
                key=lambda m: m._meta.label)


def test_every_model_has_a_factory():
    missing = [m._meta.label for m in MODELS if factory_for(m) is None]
    assert not missing, missing


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_factory_row_is_saved_with_its_history(model, admin_user):
    make = factory_for(model)
    obj = make(acting_user=admin_user) if issubclass(model, HistoryModel) else make()
    assert model.objects.filter(pk=obj.pk).exists()
    if issubclass(model, HistoryModel):
        assert obj.user_created == admin_user and obj.history.filter(history_type="+").count() == 1
