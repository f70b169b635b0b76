"""factory_boy bases and core's factories; ``factory_for(model)`` finds the factory of any model of the suite.

Each app keeps its factories in ``tests/<app>/factories.py`` (``tests/<name>/test_app`` modules included);
a HistoryModel factory derives from :class:`HistoryModelFactory`, which saves through ``save(user=…)`` so the
row gets its bookkeeping and history exactly as the services write it.
"""
import importlib
import uuid
from pathlib import Path

import factory
from django.contrib.contenttypes.models import ContentType

from core.models import InteractiveUser, Location, MutationLog, Role, RoleRight, User, UserDistrict
from core.models_auth import SharedCacheGeneration, TokenGeneration


def acting_user():
    """The user recorded as author of factory rows: the demo's administrator, created if needed."""
    from core.test_helpers import create_test_interactive_user

    return User.objects.filter(username="Admin").first() or create_test_interactive_user("Admin")


class HistoryModelFactory(factory.django.DjangoModelFactory):
    """Rows of a ``core.models.HistoryModel``; pass ``acting_user=`` to choose who writes them."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, acting_user=None, **kwargs):
        obj = model_class(*args, **kwargs)
        obj.save(user=acting_user or globals()["acting_user"]())
        return obj


# --- core ---------------------------------------------------------------------------------------------------
class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    type = "V"
    code = factory.Sequence(lambda n: f"LOC{n:05}")
    name = factory.LazyAttribute(lambda o: f"Location {o.code}")


class InteractiveUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InteractiveUser

    last_name = factory.Faker("last_name")
    other_names = factory.Faker("first_name")
    language_id = "en"


class UserFactory(factory.django.DjangoModelFactory):
    """An interactive user (login + profile) without roles."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n:05}")
    i_user = factory.SubFactory(InteractiveUserFactory)
    password = factory.django.Password("S3cure-Test-Pass!")


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    name = factory.Sequence(lambda n: f"Role {n}")


class RoleRightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleRight

    role = factory.SubFactory(RoleFactory)
    right_id = 159001


class UserDistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserDistrict

    user = factory.SubFactory(InteractiveUserFactory)
    location = factory.SubFactory(LocationFactory, type="D")


class MutationLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MutationLog

    json_content = "{}"
    user = factory.SubFactory(UserFactory)
    client_mutation_id = factory.LazyFunction(lambda: str(uuid.uuid4()))


class TokenGenerationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TokenGeneration

    user = factory.SubFactory(UserFactory)
    generation = factory.Sequence(lambda n: n + 1)


class SharedCacheGenerationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SharedCacheGeneration

    key = factory.Sequence(lambda n: f"family-{n}")
    value = factory.LazyFunction(lambda: uuid.uuid4().hex)


def mutation_link_factory(model, field, target_factory):
    """The factory of a ``<Model>Mutation`` link row (record ``field`` ↔ a mutation log)."""
    meta = type("Meta", (), {"model": model})
    return type(f"{model.__name__}Factory", (factory.django.DjangoModelFactory,), {
        "Meta": meta, field: factory.SubFactory(target_factory), "mutation": factory.SubFactory(MutationLogFactory)})


# --- discovery ------------------------------------------------------------------------------------------------
_REGISTRY = None


def _factory_modules():
    here = Path(__file__).resolve().parent
    yield importlib.import_module("tests.factories")
    for path in sorted(here.glob("*/factories.py")) + sorted(here.glob("*/test_app/factories.py")):
        relative = path.relative_to(here.parent).with_suffix("")
        yield importlib.import_module(".".join(relative.parts))


def factories():
    """``{model: factory}`` over every factories module of the suite."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = {}
        for module in _factory_modules():
            for value in vars(module).values():
                meta = getattr(value, "_meta", None)
                model = getattr(meta, "model", None)
                if isinstance(value, type) and issubclass(value, factory.Factory) and model is not None \
                        and not getattr(meta, "abstract", False):
                    _REGISTRY.setdefault(model, value)
    return _REGISTRY


def factory_for(model):
    return factories().get(model)


def content_type_of(obj):
    return ContentType.objects.get_for_model(obj)
