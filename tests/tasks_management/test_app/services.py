"""A service using the maker-checker mixins, as other modules' services do (imported by tests only)."""
from django.core.exceptions import ValidationError

from core.serializers import IdLabelSerializer, labels_from
from core.services import BaseService
from core.signals import register_service_signal
from core.validation import BaseModelValidation
from tasks_management.services import CheckerLogicServiceMixin
from tests.tasks_management.test_app.models import TmWidget


class WidgetValidation(BaseModelValidation):
    OBJECT_TYPE = TmWidget

    @classmethod
    def validate_create(cls, user, **data):
        if not (data.get("name") or "").strip():
            raise ValidationError("name can't be empty")

    @classmethod
    def validate_update(cls, user, **data):
        if "name" in data and not (data.get("name") or "").strip():
            raise ValidationError("name can't be empty")
        if not TmWidget.objects.filter(id=data.get("id"), is_deleted=False).exists():
            raise ValidationError("widget does not exist")

    @classmethod
    def validate_delete(cls, user, **data):
        if not TmWidget.objects.filter(id=data.get("id"), is_deleted=False).exists():
            raise ValidationError("widget does not exist")


class WidgetService(CheckerLogicServiceMixin, BaseService):
    CHECKER_SOURCE = "WidgetService"
    BUSINESS_DATA_SERIALIZER = "tm_test_app.WidgetService"
    OBJECT_TYPE = TmWidget

    create = register_service_signal("tm_widget_service.create")(BaseService.create)
    update = register_service_signal("tm_widget_service.update")(BaseService.update)
    delete = register_service_signal("tm_widget_service.delete")(BaseService.delete)

    def __init__(self, user, validation_class=WidgetValidation):
        super().__init__(user, validation_class)


class WidgetBusinessData(IdLabelSerializer):
    """``businessData`` of widget tasks: names upper-cased, the parent widget shown by its name (looked up in
    the database once for a whole page of tasks)."""

    labels = {"parent_id": labels_from(TmWidget.objects.all(), lambda widget: widget.name)}

    def serialize_part(self, part, attrs):
        part = super().serialize_part(part, attrs)
        if isinstance(part.get("name"), str):
            part["name"] = part["name"].upper()
        return part
