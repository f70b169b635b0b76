import pytest

from core.models import Role, RoleRight, UserRole
from core.test_helpers import admin_role, create_role, create_test_technical_user

pytestmark = pytest.mark.django_db


def test_or_semantics_and_and_mode(make_user):
    user = make_user("clerk", rights=[159001])
    assert user.has_perms(["159001"])
    assert user.has_perms(["999999", "159001"])  # OR by default
    assert not user.has_perms(["999999", "159001"], list_evaluation_or=False)
    assert not user.has_perms(["159002"])


def test_empty_list_means_no_restriction(make_user):
    assert make_user("nobody", rights=[]).has_perms([])
    assert make_user("nobody2", rights=[]).has_perms(None)


def test_admin_passes_everything(admin_user):
    assert admin_user.is_imis_admin
    assert admin_user.has_perms(["123456"])


def test_technical_users(db):
    plain = create_test_technical_user("svc", super_user=False)
    root = create_test_technical_user("root2", super_user=True)
    assert plain.rights == [] and not plain.has_perms(["159001"])
    assert root.has_perms(["159001"])


def test_blocked_role_grants_nothing(make_user):
    user = make_user("blocked", rights=[159001])
    Role.objects.filter(user_roles__user_id=user.i_user_id).update(is_blocked=True)
    from core.models import invalidate_rights_cache

    invalidate_rights_cache()
    user.refresh_from_db()
    assert not user.has_perms(["159001"])


def test_cache_invalidated_when_role_rights_change(make_user):
    user = make_user("clerk", rights=[159001])
    assert user.rights == [159001]
    role = Role.objects.get(user_roles__user_id=user.i_user_id)
    RoleRight.objects.create(role=role, right_id=159002)  # post_save signal invalidates
    fresh = type(user).objects.get(pk=user.pk)
    assert fresh.rights == [159001, 159002]


def test_cache_invalidated_when_user_roles_change(make_user):
    user = make_user("clerk", rights=[159001])
    assert not user.is_imis_admin
    UserRole.objects.create(user_id=user.i_user_id, role=admin_role())
    fresh = type(user).objects.get(pk=user.pk)
    assert fresh.is_imis_admin and fresh.has_perms(["777777"])


def test_rights_are_cached(make_user, django_assert_num_queries):
    user = make_user("clerk", rights=[159001, 159002])
    fresh = type(user).objects.get(pk=user.pk)
    assert fresh.rights == [159001, 159002]
    other = type(user).objects.get(pk=user.pk)
    with django_assert_num_queries(0):
        assert other.rights == [159001, 159002]


def test_role_helper_creates_rights(db):
    role = create_role("r", [1, 2])
    assert sorted(role.rights.values_list("right_id", flat=True)) == [1, 2]
