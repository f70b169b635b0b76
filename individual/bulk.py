"""Set-based creation of individuals in households, with history rows (fake_individuals, demo, bench)."""
import datetime
import random
import uuid

from django.db import models, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from individual.membership import group_json_ext
from individual.models import Group, GroupIndividual, Individual

NON_HEAD_ROLES = ["SPOUSE", "SON", "DAUGHTER", "GRANDFATHER", "GRANDMOTHER", "MOTHER", "FATHER"]
EDUCATION = ["none", "primary", "secondary", "tertiary"]


def _new(model, **fields):
    """Instance for a bulk insert, skipping DirtyFieldsMixin's per-instance state snapshot (never saved again)."""
    obj = model.__new__(model)
    models.Model.__init__(obj, **fields)
    return obj


def _stamp(obj, user, now):
    obj.id = uuid.uuid4()
    obj.user_created = obj.user_updated = user
    obj.date_created = obj.date_updated = obj.date_valid_from = now
    return obj


def create_households(user, count, group_size=5, locations=(None,), batch_size=5000, seed=None, marker=None,
                      progress=None):
    """Create ``count`` individuals in households of ``group_size`` (0 → no households).

    Individuals, groups and memberships are bulk-inserted with their history rows; the first member of each
    household is HEAD + PRIMARY and each group's json_ext is computed in Python (spec §6.3).
    Returns (individuals, groups) created.
    """
    from faker import Faker

    fake = Faker()
    rnd = random.Random(seed)
    if seed is not None:
        Faker.seed(seed)
    locations = list(locations) or [None]
    made_individuals = made_groups = 0
    first_names = [fake.first_name() for _ in range(500)]
    last_names = [fake.last_name() for _ in range(500)]
    while made_individuals < count:
        batch = min(batch_size, count - made_individuals)
        if group_size:
            batch = max(group_size, batch - batch % group_size) if count - made_individuals >= group_size else batch
        now = timezone.now()
        today = now.date()
        individuals, groups, memberships = [], [], []
        household_size = group_size or batch
        for start in range(0, batch, household_size):
            location = rnd.choice(locations)
            family = rnd.choice(last_names)
            members = []
            for position in range(min(household_size, batch - start)):
                json_ext = {"educated_level": rnd.choice(EDUCATION), "number_of_children": rnd.randint(0, 6),
                            "able_bodied": rnd.random() > 0.1, "email": f"{uuid.uuid4().hex[:10]}@example.org"}
                if marker:
                    json_ext[marker] = True
                individual = _stamp(_new(Individual, 
                    first_name=rnd.choice(first_names), last_name=family,
                    dob=today - datetime.timedelta(days=rnd.randint(18 * 365 if position == 0 else 0, 90 * 365)),
                    location=location, json_ext=json_ext), user, now)
                individuals.append(individual)
                members.append(individual)
            if not group_size:
                continue
            group = _stamp(_new(Group, code=f"HH-{uuid.uuid4().hex[:8].upper()}", location=location), user, now)
            rows = []
            for position, individual in enumerate(members):
                role = "HEAD" if position == 0 else rnd.choice(NON_HEAD_ROLES)
                recipient = "PRIMARY" if position == 0 else None
                memberships.append(_stamp(_new(GroupIndividual, group=group, individual=individual, role=role,
                                                          recipient_type=recipient, json_ext={}), user, now))
                rows.append((individual, role, recipient))
            group.json_ext = group_json_ext({}, rows)
            if marker:
                group.json_ext[marker] = True
            groups.append(group)
        with transaction.atomic():
            bulk_create_with_history(individuals, Individual, batch_size=2000, default_user=user,
                                     default_date=now)
            if groups:
                bulk_create_with_history(groups, Group, batch_size=2000, default_user=user, default_date=now)
                bulk_create_with_history(memberships, GroupIndividual, batch_size=2000, default_user=user,
                                         default_date=now)
        made_individuals += len(individuals)
        made_groups += len(groups)
        if progress is not None:
            progress.update(len(individuals))
    return made_individuals, made_groups
