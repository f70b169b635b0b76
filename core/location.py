"""Location row security: which locations a user may see, computed level by level with the ORM."""
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from core.request_memo import CacheGeneration, memoized

LOCATION_CACHE_GENERATION_KEY = "core:locations:generation"
ALL_TYPES = ("R", "D", "W", "V")


_location_generation = CacheGeneration(LOCATION_CACHE_GENERATION_KEY)
_generation = _location_generation.current
invalidate_location_cache = _location_generation.bump


def connect_location_cache_signals():
    from django.db.models.signals import post_delete, post_save

    from core.models import Location, UserDistrict

    for model in (Location, UserDistrict):
        post_save.connect(invalidate_location_cache, sender=model, dispatch_uid=f"loc-cache-{model.__name__}-s")
        post_delete.connect(invalidate_location_cache, sender=model, dispatch_uid=f"loc-cache-{model.__name__}-d")


def row_security_enabled():
    return getattr(settings, "ROW_SECURITY", True)


def is_unrestricted(user):
    """Admins, superusers and technical (non-interactive) users see every location."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or not user.i_user_id or user.is_imis_admin)


class LocationManager:
    def children(self, location_ids, loc_types=ALL_TYPES):
        """All current descendants of the given locations (not the locations themselves)."""
        from core.models import Location

        found, seen, frontier = set(), set(location_ids), set(location_ids)
        while frontier:
            level = list(
                Location.objects.filter(parent_id__in=frontier, validity_to__isnull=True).values_list("id", "type")
            )
            frontier = {loc_id for loc_id, _ in level} - seen
            seen |= frontier
            found |= {loc_id for loc_id, loc_type in level if loc_type in loc_types}
        return found

    def parents(self, location_id):
        from core.models import Location

        chain, current = [], Location.objects.filter(id=location_id).values("id", "parent_id").first()
        while current and current["parent_id"]:
            chain.append(current["parent_id"])
            current = Location.objects.filter(id=current["parent_id"]).values("id", "parent_id").first()
        return chain

    def get_allowed_ids(self, user, loc_types=ALL_TYPES):
        """Locations of the user's current districts plus every descendant, limited to loc_types."""
        if not getattr(user, "i_user_id", None):
            return []
        return memoized(("allowed-locations", user.i_user_id, tuple(sorted(loc_types))),
                        lambda: self._load_allowed_ids(user, loc_types))

    def _load_allowed_ids(self, user, loc_types):
        from core.models import UserDistrict

        key = f"core:allowed-locations:{_generation()}:{user.i_user_id}:{''.join(sorted(loc_types))}"
        ids = cache.get(key)
        if ids is None:
            districts = set(UserDistrict.objects.filter(user_id=user.i_user_id, validity_to__isnull=True)
                            .values_list("location_id", flat=True))
            allowed = self.children(districts, loc_types) | (districts if "D" in loc_types else set())
            ids = sorted(allowed)
            cache.set(key, ids, 3600)
        return ids

    def is_allowed(self, user, location_ids):
        if not row_security_enabled() or is_unrestricted(user):
            return True
        wanted = {int(i) for i in location_ids if i is not None}
        if not wanted:
            return True
        return wanted.issubset(set(self.get_allowed_ids(user)))

    def check_allowed(self, user, location_ids):
        if not self.is_allowed(user, location_ids):
            raise PermissionDenied("unauthorized.location")

    def build_user_location_filter_query(self, user, prefix="location", queryset=None, loc_types=ALL_TYPES):
        """Q (or filtered queryset): rows whose ``prefix`` location is allowed or NULL."""
        if not row_security_enabled() or is_unrestricted(user):
            q = Q()
        elif not getattr(user, "is_authenticated", False):
            q = Q(pk__in=[])
        else:
            q = Q(**{f"{prefix}__isnull": True}) | Q(**{f"{prefix}_id__in": self.get_allowed_ids(user, loc_types)})
        return queryset.filter(q) if queryset is not None else q


location_manager = LocationManager()
