import pytest
from django.core.cache import cache
from django.db import connection

from core.test_helpers import GQL, assign_user_districts, create_test_interactive_user, create_test_technical_user


@pytest.fixture(autouse=True)
def _clear_cache():
    # rights and location caches live in the Django cache; tests must not see each other's
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def admin_user(db):
    return create_test_interactive_user("Admin")


@pytest.fixture
def make_user(db):
    """``make_user("clerk", rights=[159001], districts=["AD"])`` → interactive user holding exactly those rights
    (restricted to those district codes when given)."""

    def factory(username, rights=(), districts=(), **kwargs):
        user = create_test_interactive_user(username, rights=list(rights), **kwargs)
        if districts:
            assign_user_districts(user, list(districts))
        return user

    return factory


@pytest.fixture
def no_rights_user(db):
    return create_test_interactive_user("NoRights", rights=[])


@pytest.fixture
def superuser(db):
    return create_test_technical_user("root", super_user=True)


@pytest.fixture
def set_config():
    """``set_config(ConfigClass, key=value, …)``: module configuration attributes for one test (restored after)."""
    saved = []

    def setter(config_class, **values):
        for key, value in values.items():
            saved.append((config_class, key, getattr(config_class, key)))
            setattr(config_class, key, value)

    yield setter
    for config_class, key, value in reversed(saved):
        setattr(config_class, key, value)


@pytest.fixture
def gql():
    """``gql(user)`` → GraphQL test client authenticated as ``user`` (None = anonymous)."""
    return lambda user=None: GQL(user)


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL")
    if connection.vendor != "postgresql":
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip_pg)
    import os

    if not os.environ.get("CELERY_WORKER_TEST"):
        skip_worker = pytest.mark.skip(reason="needs a real celery worker (set CELERY_WORKER_TEST=1, see .ci/run)")
        for item in items:
            if "celery_worker" in item.keywords:
                item.add_marker(skip_worker)
