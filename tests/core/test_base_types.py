"""The GraphQL base types: a type without rights cannot be written; foreign keys obey the target's rights."""
import pytest
from django.core.exceptions import ImproperlyConfigured
from graphene_django.registry import Registry

from core.gql.types import HistoryModelType
from core.test_helpers import assign_user_districts, create_test_village
from tests.guide.test_app.models import Visit

pytestmark = pytest.mark.django_db


def test_a_type_that_declares_no_rights_is_refused_at_import():
    with pytest.raises(ImproperlyConfigured, match="declares no read_perms"):
        class LeakyVisitType(HistoryModelType):  # noqa: F841  (what the old module template produced)
            class Meta:
                model = Visit
                registry = Registry()
                fields = ("id", "subject")


def test_foreign_keys_to_protected_types_apply_the_target_rights_and_rows(gql, make_user, admin_user):
    """A visit's location is public; its ``userUpdated`` stays readable as every list shows it; a protected
    target read through a foreign key obeys the target type's rights (checked once for the page)."""
    from tests.guide.test_app.gql_queries import VisitHistoryGQLType

    village = create_test_village("FK")
    reader = make_user("fk_reader", rights=[995001])
    assign_user_districts(reader, [village.parent.parent.code])
    visit = Visit(subject="fk", location=village)
    visit.save(user=admin_user)
    data = gql(reader).data('{ visit { edges { node { subject location { code } userUpdated { username } } } } }')
    node = data["visit"]["edges"][0]["node"]
    assert node == {"subject": "fk", "location": {"code": village.code}, "userUpdated": {"username": "Admin"}}
    assert VisitHistoryGQLType.has_row_security() and not VisitHistoryGQLType.public
