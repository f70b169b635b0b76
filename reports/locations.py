"""The location tree a report rolls its figures up with: every current location in one query (a few thousand
rows), then a location's ancestor at the asked level (Region → District → Ward → Village) in memory."""
from core.models import Location

LEVELS = tuple(Location.LEVELS)  # R, D, W, V
NO_LOCATION = "(no location)"


class LocationTree:
    def __init__(self):
        self.nodes = {row[0]: row[1:] for row in Location.objects.filter(validity_to__isnull=True)
                      .values_list("id", "parent_id", "type", "code", "name")}

    def ancestor(self, location_id, level):
        """``location_id`` itself or its ancestor of type ``level``; a location above ``level`` stays itself."""
        if location_id is None or level is None:
            return location_id
        current, depth = location_id, LEVELS.index(level)
        while current in self.nodes:
            parent_id, loc_type = self.nodes[current][0], self.nodes[current][1]
            if loc_type == level or LEVELS.index(loc_type) < depth or parent_id is None:
                return current
            current = parent_id
        return location_id

    def label(self, location_id):
        if location_id is None:
            return NO_LOCATION
        node = self.nodes.get(location_id)
        return f"{node[2]} {node[3]}" if node else str(location_id)

    def descendants(self, location_id):
        """``location_id`` and every current location under it."""
        children = {}
        for loc_id, (parent_id, *_rest) in self.nodes.items():
            children.setdefault(parent_id, []).append(loc_id)
        found, frontier = {location_id}, [location_id]
        while frontier:
            nxt = [c for p in frontier for c in children.get(p, ())]
            found.update(nxt)
            frontier = nxt
        return found
