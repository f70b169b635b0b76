import logging
import re

from core.module_config import ModuleAppConfig

logger = logging.getLogger(__name__)

MODULE_NAME = "grievance_social_protection"

DEFAULT_CONFIG = {
    "default_validations_disabled": False,
    "gql_query_tickets_perms": ["127000"],
    "gql_mutation_create_tickets_perms": ["127001"],
    "gql_mutation_update_tickets_perms": ["127002"],
    "gql_mutation_delete_tickets_perms": ["127003"],
    "gql_query_comments_perms": ["127004"],
    "gql_mutation_create_comment_perms": ["127005"],
    "gql_mutation_resolve_grievance_perms": ["127006"],
    # ticket attachments (spec §12): list / download, create, delete
    "gql_query_ticket_attachments_perms": ["127000"],
    "gql_mutation_create_ticket_attachment_perms": ["127002"],
    "gql_mutation_delete_ticket_attachment_perms": ["127002"],
    # None: MEDIA_ROOT/ticket_attachments/; a relative path is taken under MEDIA_ROOT
    "tickets_attachments_root_path": None,
    "ticket_attachment_max_bytes": 10 * 1024 * 1024,
    "ticket_attachment_mime_types": ["image/jpeg", "image/png", "image/webp", "application/pdf", "text/plain"],
    "grievance_types": ["Default", "Category A", "Category B"],
    "grievance_flags": ["Default", "Flag A", "Flag B"],
    "grievance_channels": ["Default", "Channel A", "Channel B"],
    "default_responses": {"Default": "Default"},
    "grievance_anonymized_fields": {"Default": []},
    "resolution_times": "5,0",
    "default_resolution": {"Default": "5,0", "Category A": "4,0", "Category B": "6,12"},
    "attending_staff_role_ids": [],
    "default_attending_staff_role_ids": {"Default": [1, 2]},
    # ours (spec §9.3): fill an empty due date on create from the resolution time
    "compute_due_date_from_resolution": False,
    # spec §9.2: the follow-up task of every ticket (grievance_social_protection/task_rules.py)
    "grievance_follow_up_task_enabled": True,
}

RESOLUTION_RE = re.compile(r"^(\d{1,2}),(\d{1,2})$")


def check_config(cfg):
    """Start-up checks of the spec (§2): warnings only, never fatal. Returns the (fixed) config."""
    cfg = dict(cfg)
    types = cfg.get("grievance_types") or []
    if not types:
        logger.warning("grievance_social_protection: grievance_types is empty")
    for key in ("default_responses", "grievance_anonymized_fields", "default_resolution"):
        value = cfg.get(key) or {}
        if not isinstance(value, dict):
            logger.warning("grievance_social_protection: %s should be a dict keyed by grievance type", key)
            continue
        unknown = [k for k in value if k not in types]
        if unknown:
            logger.warning("grievance_social_protection: %s has keys %s that are not grievance types; "
                           "available types: %s", key, unknown, types)
    resolutions = dict(cfg.get("default_resolution") or {})
    for category, value in resolutions.items():
        if value in (None, ""):
            resolutions[category] = cfg.get("resolution_times")
            continue
        match = RESOLUTION_RE.match(str(value))
        if not match:
            logger.warning("grievance_social_protection: default_resolution[%s]=%r is not '<days>,<hours>'",
                           category, value)
            continue
        days, hours = int(match.group(1)), int(match.group(2))
        if not 0 <= days < 99 or not 0 <= hours < 24:
            logger.warning("grievance_social_protection: default_resolution[%s]=%r is out of range "
                           "(days 0-98, hours 0-23)", category, value)
    cfg["default_resolution"] = resolutions
    return cfg


class TicketConfig(ModuleAppConfig):
    name = MODULE_NAME
    verbose_name = "Grievance (social protection)"
    DEFAULT_CONFIG = DEFAULT_CONFIG

    def ready(self):
        super().ready()
        from grievance_social_protection.links import register_default_link_types

        register_default_link_types()

    def load_config(self):
        cfg = check_config(super().load_config())
        for key, value in cfg.items():
            setattr(type(self), key, value)
        type(self).config = cfg
        return cfg
