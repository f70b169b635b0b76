"""import-linter contract: the openIMIS modules reach each other only through their public interfaces."""
from importlinter import Contract, ContractCheck, fields, output


class ModuleInterfacesContract(Contract):
    """A module imports a sibling only through the sibling's ``interfaces`` (``services``, ``selectors``,
    ``signals``); ``core`` is the platform every module builds on and imports no module."""

    modules = fields.ListField(subfield=fields.StringField())
    interfaces = fields.ListField(subfield=fields.StringField())
    platform = fields.StringField()

    def check(self, graph, verbose):
        modules = [m for m in self.modules if m in graph.modules]
        interfaces = set(self.interfaces)
        violations = []
        for importer_package in [self.platform, *modules]:
            importers = {importer_package, *graph.find_descendants(importer_package)}
            for importer in sorted(importers):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    target = imported.split(".")[0]
                    if target == importer_package or target not in modules:
                        continue
                    part = imported.split(".")[1] if "." in imported else None
                    if importer_package != self.platform and part in interfaces:
                        continue
                    lines = [d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)]
                    violations.append((importer, imported, lines))
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check):
        for importer, imported, lines in check.metadata["violations"]:
            output.print_error(f"{importer} -> {imported} (l. {', '.join(map(str, lines))})")
        output.new_line()
