from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.management.arguments import positive_int
from core.models import Location

# A small fictional country: 2 regions × 2 districts × 2 wards × 3 villages.
REGIONS = [("R1", "Northern Region"), ("R2", "Southern Region")]


def seed_locations(regions=2, districts=2, wards=2, villages=3):
    """Idempotent: codes identify locations. Returns the list of villages."""
    created_villages = []
    with transaction.atomic():
        for r in range(1, regions + 1):
            region, _ = Location.objects.get_or_create(
                code=f"R{r}", type="R", validity_to__isnull=True,
                defaults={"name": REGIONS[r - 1][1] if r <= len(REGIONS) else f"Region {r}"})
            for d in range(1, districts + 1):
                district, _ = Location.objects.get_or_create(
                    code=f"R{r}D{d}", type="D", validity_to__isnull=True,
                    defaults={"name": f"District {r}.{d}", "parent": region})
                for w in range(1, wards + 1):
                    ward, _ = Location.objects.get_or_create(
                        code=f"R{r}D{d}W{w}", type="W", validity_to__isnull=True,
                        defaults={"name": f"Ward {r}.{d}.{w}", "parent": district})
                    for v in range(1, villages + 1):
                        village, _ = Location.objects.get_or_create(
                            code=f"R{r}D{d}W{w}V{v}", type="V", validity_to__isnull=True,
                            defaults={"name": f"Village {r}.{d}.{w}.{v}", "parent": ward})
                        created_villages.append(village)
    return created_villages


class Command(BaseCommand):
    help = "Create a demo location hierarchy (regions → districts → wards → villages). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--regions", type=positive_int, default=2)
        parser.add_argument("--districts", type=positive_int, default=2)
        parser.add_argument("--wards", type=positive_int, default=2)
        parser.add_argument("--villages", type=positive_int, default=3)

    def handle(self, *args, **options):
        counts = ("regions", "districts", "wards", "villages")
        if any(options[name] < 1 for name in counts):  # call_command(regions=0) bypasses the parser's types
            raise CommandError("--regions, --districts, --wards and --villages must be at least 1")
        villages = seed_locations(options["regions"], options["districts"], options["wards"], options["villages"])
        self.stdout.write(self.style.SUCCESS(f"Locations ready: {Location.objects.count()} ({len(villages)} villages)"))
