"""Demo registry: a few hundred individuals in households across the seeded villages, a few without location."""
from individual.bulk import create_households
from individual.models import Individual

DEMO_MARKER = "demo_individual"


def contribute(ctx):
    if Individual.objects.filter(**{f"json_ext__{DEMO_MARKER}": True}).exists():
        ctx.log("individual: demo registry already present")
        return
    villages = list(ctx.villages) or [None]
    individuals, groups = create_households(ctx.admin, 300, 5, villages, seed=4, marker=DEMO_MARKER)
    loose, _ = create_households(ctx.admin, 10, 0, [None], seed=5, marker=DEMO_MARKER)
    ctx.log(f"individual: {individuals} individuals in {groups} households, {loose} without location or household")
