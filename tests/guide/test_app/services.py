from django.core.exceptions import ValidationError
from django.utils import timezone

from core import bulk
from core.services import BaseService, model_update, output_result_success, service_operation
from core.signals import register_service_signal
from core.validation import BaseModelValidation
from tests.guide.test_app.models import Visit


class VisitValidation(BaseModelValidation):
    OBJECT_TYPE = Visit

    @classmethod
    def validate_create(cls, user, **data):
        if not (data.get("subject") or "").strip():
            raise ValidationError("visit.subject.empty")


class VisitService(BaseService):
    OBJECT_TYPE = Visit

    def __init__(self, user):
        super().__init__(user, VisitValidation)

    @register_service_signal("visit_service.create")
    def create(self, obj_data):
        return super().create(obj_data)

    @register_service_signal("visit_service.record_outcome")
    def record_outcome(self, obj_data):
        visit = self.get_live(obj_data["id"], lock=True)
        if obj_data.get("outcome") not in Visit.Outcome.values:
            raise ValidationError("visit.outcome.invalid")
        visit, changed = model_update(visit, fields=["outcome"], data=obj_data, user=self.user)
        return output_result_success({"id": str(visit.id), "changed": changed})

    @register_service_signal("visit_service.delete")
    def delete(self, obj_data):
        return super().delete(obj_data)

    @service_operation("close_stale")
    def close_stale(self, before):
        """Every visit still PLANNED before ``before`` becomes MISSED, with its history row."""
        stale = Visit.objects.filter(is_deleted=False, outcome=Visit.Outcome.PLANNED, date_created__lt=before)
        return output_result_success({"closed": bulk.update_with_history(stale, {"outcome": Visit.Outcome.MISSED},
                                                                         user=self.user)})


def close_stale_visits(user, days=30):
    return VisitService(user).close_stale(timezone.now() - timezone.timedelta(days=days))
