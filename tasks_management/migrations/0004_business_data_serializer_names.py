"""Tasks name their business-data serializer by its registered name, not by a dotted path to a method.

``"<package>.<module path>.<ServiceClass>._business_data_serializer"`` becomes ``"<package>.<ServiceClass>"``
(``"individual.services.IndividualService._business_data_serializer"`` → ``"individual.IndividualService"``),
the name under which the module registers its batch serializer (``register_business_data_serializer``). Other
values are left as they are. Reversing writes the dotted path back, assuming ``<package>.services`` (where every
maker-checker service lives). History rows keep what was stored at the time.
"""
from django.db import migrations

METHOD = "_business_data_serializer"


def registered_name(dotted_path):
    """The registered name of an old dotted path, or None when ``dotted_path`` is not one."""
    parts = (dotted_path or "").split(".")
    if len(parts) < 3 or parts[-1] != METHOD or not all(parts):
        return None
    return f"{parts[0]}.{parts[-2]}"


def dotted_path(name):
    """The old dotted path of a registered name (``<package>.services.<Class>.<method>``), or None."""
    parts = (name or "").split(".")
    if len(parts) != 2 or not all(parts):
        return None
    return f"{parts[0]}.services.{parts[1]}.{METHOD}"


def _rewrite(apps, convert):
    Task = apps.get_model("tasks_management", "Task")
    stored = Task.objects.exclude(business_data_serializer__isnull=True).values_list(
        "business_data_serializer", flat=True).distinct()
    for value in list(stored):  # a few distinct values (one per maker-checker service)
        new = convert(value)
        if new is not None and new != value:
            Task.objects.filter(business_data_serializer=value).update(business_data_serializer=new)


def forward(apps, schema_editor):
    _rewrite(apps, registered_name)


def backward(apps, schema_editor):
    _rewrite(apps, dotted_path)


class Migration(migrations.Migration):

    dependencies = [
        ("tasks_management", "0003_task_one_pending_per_entity_event"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
