import pytest
from django.core.exceptions import ValidationError
from simple_history.utils import bulk_create_with_history

from core.models import NO_CHANGES_MESSAGE
from tests.core.test_app.models import Contract, Widget

pytestmark = pytest.mark.django_db


def test_create_writes_history_and_bookkeeping(admin_user):
    widget = Widget(name="w1")
    widget.save(user=admin_user)
    assert widget.id is not None and widget.version == 1
    assert widget.user_created == admin_user and widget.user_updated == admin_user
    history = list(Widget.history.filter(id=widget.id))
    assert [h.history_type for h in history] == ["+"]
    assert history[0].history_user_id == admin_user.id
    assert Widget._meta.db_table == "core_test_app_widget"
    assert Widget.history.model._meta.db_table == "core_test_app_historicalwidget"


def test_update_bumps_version_and_records_history(admin_user, make_user):
    widget = Widget(name="w1")
    widget.save(user=admin_user)
    editor = make_user("editor")
    widget.name = "w2"
    widget.save(user=editor)
    widget.refresh_from_db()
    assert widget.version == 2 and widget.user_updated == editor and widget.user_created == admin_user
    assert Widget.history.filter(id=widget.id).count() == 2
    assert Widget.history.filter(id=widget.id).latest("history_date").name == "w2"


def test_save_without_changes_is_refused(admin_user):
    widget = Widget(name="w1")
    widget.save(user=admin_user)
    with pytest.raises(ValidationError) as exc:
        widget.save(user=admin_user)
    assert NO_CHANGES_MESSAGE in str(exc.value)


def test_save_requires_acting_user():
    with pytest.raises(ValidationError):
        Widget(name="w").save()


def test_soft_delete_keeps_row_and_history(admin_user):
    widget = Widget(name="w1")
    widget.save(user=admin_user)
    widget.delete(user=admin_user)
    row = Widget.objects.get(id=widget.id)
    assert row.is_deleted and row.version == 2
    assert list(Widget.history.filter(id=widget.id).order_by("history_date").values_list("history_type", flat=True)) == ["+", "~"]
    with pytest.raises(ValidationError):
        row.delete(user=admin_user)


def test_full_clean_runs_on_save(admin_user):
    with pytest.raises(ValidationError) as exc:
        Widget(name="x" * 200).save(user=admin_user)
    assert "is not respecting the mandatory fields" in str(exc.value)


def test_uuid_alias_and_filter(admin_user):
    widget = Widget(name="w1")
    widget.save(user=admin_user)
    assert Widget.objects.get(uuid=widget.id).uuid == widget.id


def test_replace_object_closes_old_and_links_new(admin_user):
    contract = Contract(code="C1")
    contract.save(user=admin_user)
    new = contract.replace_object({"code": "C2"}, user=admin_user)
    contract.refresh_from_db()
    assert contract.replacement_uuid == new.id and contract.date_valid_to is not None
    assert new.version == 1 and new.code == "C2"
    new.delete(user=admin_user)
    contract.refresh_from_db()
    assert contract.replacement_uuid is None


def test_bulk_create_with_history_writes_history_rows(admin_user):
    import uuid

    widgets = [Widget(id=uuid.uuid4(), name=f"b{i}", user_created=admin_user, user_updated=admin_user)
               for i in range(50)]
    bulk_create_with_history(widgets, Widget, default_user=admin_user)
    assert Widget.history.filter(history_type="+").count() == 50


def test_changes_are_told_by_value_json_edited_in_place_and_deferred_fields_ignored(admin_user, make_user):
    widget = Widget(name="w1", json_ext={"a": {"b": 1}})
    widget.save(user=admin_user)
    loaded = Widget.objects.get(id=widget.id)
    assert not loaded.is_dirty() and loaded.get_dirty_fields() == {}
    loaded.json_ext["a"]["b"] = 2  # an edit in place of the loaded dict
    assert loaded.get_dirty_fields() == {"json_ext": {"a": {"b": 1}}}
    loaded.save(user=make_user("editor"))
    assert not loaded.is_dirty()  # what was saved is the new reference
    assert Widget.objects.get(id=widget.id).json_ext == {"a": {"b": 2}}

    same_again = Widget.objects.get(id=widget.id)
    same_again.json_ext = {"a": {"b": 2}}  # equal content, another object: no change
    same_again.user_created_id = admin_user.id
    with pytest.raises(ValidationError, match=NO_CHANGES_MESSAGE):
        same_again.save(user=admin_user)

    partial = Widget.objects.only("id", "name").get(id=widget.id)
    assert partial.get_dirty_fields() == {}  # the deferred fields are neither read nor reported
    partial.name = "w2"
    assert partial.get_dirty_fields() == {"name": "w1"}
    assert Widget(name="new").is_dirty()  # a record not yet saved is all change
