"""Readable ``businessData`` of the registry's maker-checker tasks, for a page of tasks at once (spec §7):
individual ids → "First Last", group ids → code, membership ids → their individual's name, a group still
to be created → ``NEW_GROUP``. Registered in ``IndividualConfig.ready()`` under the services' declared names."""
from core.serializers import IdLabelSerializer, labels_from
from individual.models import Group, GroupIndividual, Individual


def individual_names():
    return labels_from(Individual.objects.only("id", "first_name", "last_name"), str)


def group_codes():
    return labels_from(Group.objects.only("id", "code"), lambda group: group.code)


def member_names():
    return labels_from(GroupIndividual.objects.select_related("individual").only(
        "id", "individual__first_name", "individual__last_name"), lambda membership: str(membership.individual))


class IndividualTaskData(IdLabelSerializer):
    labels = {"id": individual_names()}


class GroupTaskData(IdLabelSerializer):
    """``individuals_data`` is a list of memberships: their ``individual_id`` become names too."""

    labels = {"id": group_codes(), "individual_id": individual_names()}

    def collect(self, part, ids):
        super().collect(part, ids)
        for item in self._members(part):
            if item.get("individual_id") not in (None, ""):
                ids.setdefault("individual_id", set()).add(str(item["individual_id"]))

    @staticmethod
    def _members(part):
        members = part.get("individuals_data")
        return [item for item in members if isinstance(item, dict)] if isinstance(members, list) else []

    def serialize_part(self, part, attrs):
        result = super().serialize_part(part, attrs)
        if isinstance(part.get("individuals_data"), list):
            result["individuals_data"] = [
                {**item, "individual_id": self.label(attrs, "individual_id", item.get("individual_id"))}
                if isinstance(item, dict) else item for item in part["individuals_data"]]
        return result


class GroupIndividualTaskData(IdLabelSerializer):
    labels = {"id": member_names(), "individual_id": individual_names(), "group_id": group_codes()}


class CreateGroupAndMoveIndividualTaskData(IdLabelSerializer):
    labels = {"group_individual_id": member_names()}

    def serialize_part(self, part, attrs):
        result = super().serialize_part(part, attrs)
        if "id" in result:
            result["id"] = "NEW_GROUP"
        return result


BUSINESS_DATA_SERIALIZERS = {
    "individual.IndividualService": IndividualTaskData,
    "individual.GroupService": GroupTaskData,
    "individual.GroupIndividualService": GroupIndividualTaskData,
    "individual.CreateGroupAndMoveIndividualService": CreateGroupAndMoveIndividualTaskData,
}
