import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import override_settings

from core.location import location_manager
from core.models import Location
from core.test_helpers import assign_user_districts, create_test_location
from tests.core.test_app.models import Widget

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(db):
    region = create_test_location("R", "R1")
    d1 = create_test_location("D", "D1", parent=region)
    d2 = create_test_location("D", "D2", parent=region)
    w1 = create_test_location("W", "W1", parent=d1)
    v1 = create_test_location("V", "V1", parent=w1)
    w2 = create_test_location("W", "W2", parent=d2)
    v2 = create_test_location("V", "V2", parent=w2)
    return {"region": region, "d1": d1, "d2": d2, "w1": w1, "v1": v1, "w2": w2, "v2": v2}


def test_allowed_ids_are_district_and_descendants(tree, make_user):
    user = make_user("district1", rights=[1])
    assign_user_districts(user, ["D1"])
    allowed = set(location_manager.get_allowed_ids(user))
    assert allowed == {tree["d1"].id, tree["w1"].id, tree["v1"].id}
    assert set(location_manager.get_allowed_ids(user, loc_types=["V"])) == {tree["v1"].id}
    assert tree["region"].id not in allowed  # parents are excluded


def test_is_allowed(tree, make_user, admin_user):
    user = make_user("district1", rights=[1])
    assign_user_districts(user, ["D1"])
    assert location_manager.is_allowed(user, [tree["v1"].id])
    assert not location_manager.is_allowed(user, [tree["v1"].id, tree["v2"].id])
    assert location_manager.is_allowed(user, [])
    assert location_manager.is_allowed(admin_user, [tree["v2"].id])
    with pytest.raises(PermissionDenied, match="unauthorized.location"):
        location_manager.check_allowed(user, [tree["v2"].id])
    with override_settings(ROW_SECURITY=False):
        assert location_manager.is_allowed(user, [tree["v2"].id])


def test_filter_query_includes_null_locations(tree, make_user, admin_user):
    for name, loc in (("a", tree["v1"]), ("b", tree["v2"]), ("c", None)):
        Widget(name=name, location=loc).save(user=admin_user)
    user = make_user("district1", rights=[1])
    assign_user_districts(user, ["D1"])
    visible = Widget.get_queryset(Widget.objects.all(), user)
    assert sorted(visible.values_list("name", flat=True)) == ["a", "c"]
    assert Widget.get_queryset(Widget.objects.all(), admin_user).count() == 3
    assert Widget.get_queryset(Widget.objects.all(), AnonymousUser()).count() == 0


def test_cache_invalidated_on_new_district(tree, make_user):
    user = make_user("district1", rights=[1])
    assign_user_districts(user, ["D1"])
    assert tree["v2"].id not in location_manager.get_allowed_ids(user)
    assign_user_districts(user, ["D2"])
    assert tree["v2"].id in location_manager.get_allowed_ids(user)


def test_children_and_parents(tree):
    assert location_manager.children([tree["region"].id]) == {
        tree[k].id for k in ("d1", "d2", "w1", "v1", "w2", "v2")}
    assert location_manager.parents(tree["v1"].id) == [tree["w1"].id, tree["d1"].id, tree["region"].id]
    assert Location.objects.filter(type="V").count() == 2
