"""Per-module configuration: code defaults in each app's apps.py merged with ModuleConfiguration rows."""
import logging
import warnings

from django.apps import AppConfig, apps
from django.conf import settings

logger = logging.getLogger(__name__)


class ModuleAppConfig(AppConfig):
    """Base AppConfig of every openIMIS module.

    Subclasses declare ``DEFAULT_CONFIG`` (core names it ``DEFAULT_CFG``). At start-up the defaults are
    merged with the module's ModuleConfiguration row and every key becomes a class attribute, so code
    reads ``IndividualConfig.gql_individual_search_perms``. A change needs a restart (or ``load_config``).
    """

    DEFAULT_CONFIG: dict = {}
    SCHEDULED_JOBS: list = []  # periodic celery jobs of the module (core.scheduling)
    default_auto_field = "django.db.models.BigAutoField"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Django picks the app's config among the classes of apps.py; the imported base must not compete.
        cls.default = True

    @classmethod
    def default_config(cls):
        return getattr(cls, "DEFAULT_CFG", None) or cls.DEFAULT_CONFIG

    def ready(self):
        self.load_config()

    def load_config(self):
        from core.models import ModuleConfiguration

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # DB access during app init is intended here
            cfg = ModuleConfiguration.get_or_default(self.name, self.default_config())
        for key, value in cfg.items():
            setattr(type(self), key, value)
        type(self).config = cfg
        return cfg


def stored_config(module):
    """``(row, values)`` of the module's ``ModuleConfiguration`` row (``(None, {})`` when there is none)."""
    import json

    from core.models import ModuleConfiguration

    row = ModuleConfiguration.objects.filter(module=module, layer="be").first()
    return row, (json.loads(row.config) if row and row.config else {})


def store_config(module, values):
    """Write ``values`` into the module's ``ModuleConfiguration`` row (created when missing; other keys kept) and
    apply them to the running app's configuration. Demo data and set-up commands configure modules this way."""
    import json

    from core.models import ModuleConfiguration

    row, config = stored_config(module)
    config.update(values)
    row = row or ModuleConfiguration(module=module, layer="be")
    row.config = json.dumps(config)
    row.save()
    app_config = type(apps.get_app_config(module))
    for key, value in values.items():
        setattr(app_config, key, value)


def openimis_app_configs():
    by_name = {config.name: config for config in apps.get_app_configs()}
    for module in settings.OPENIMIS_MODULES:
        config = by_name.get(module)
        if isinstance(config, ModuleAppConfig):
            yield config


def _flatten_perms(cfg, prefix=""):
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten_perms(value, prefix=f"{name}_")
        elif name.endswith("_perms") and isinstance(value, (list, tuple)):
            yield name, value


def modules_permissions():
    """[(module, [(perms_name, int right)])] for every installed module, as modulesPermissions returns."""
    result = []
    for config in openimis_app_configs():
        cfg = getattr(type(config), "config", None) or config.default_config()
        perms = []
        for name, values in _flatten_perms(cfg):
            for value in values:
                try:
                    perms.append((name, int(value)))
                except (TypeError, ValueError):
                    logger.warning("Right %r of %s.%s is not a number", value, config.name, name)
        result.append((config.name, perms))
    return result


def all_declared_rights():
    return {right for _, perms in modules_permissions() for _, right in perms}


def module_part(module, part):
    """``<module>.<part>`` (e.g. ``individual.schema``) imported, or None when the module has no such part."""
    import importlib

    name = f"{module}.{part}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None


def module_parts(part, modules=None):
    """``(module, imported part)`` for every installed module that has ``part``."""
    for module in settings.OPENIMIS_MODULES if modules is None else modules:
        imported = module_part(module, part)
        if imported is not None:
            yield module, imported


def config_value(spec):
    """A declared setting: ``"<app label>.<config key>"`` read from the module's configuration at call time,
    a callable called, anything else as it is."""
    if callable(spec):
        return spec()
    if isinstance(spec, str) and "." in spec:
        label, key = spec.split(".", 1)
        return getattr(type(apps.get_app_config(label)), key)
    return spec


CRUD = ("search", "create", "update", "delete")


def gql_rights(entity, first_code, operations=CRUD):
    """Rights keys of one entity with consecutive codes: ``gql_rights("individual", 159001)`` is
    ``{"gql_individual_search_perms": ["159001"], … "gql_individual_delete_perms": ["159004"]}``."""
    return {f"gql_{entity}_{operation}_perms": [str(first_code + offset)] for offset, operation in enumerate(operations)}
