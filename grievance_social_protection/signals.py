def bind_service_signals():
    """No service-signal bindings: the follow-up tasks of spec §9.2 come from ``task_rules.py`` (the rule and the
    ticket / comment report sources); every ticket or comment save marks its subject dirty through the rules
    engine's model-save triggers (tasks_management/rules/triggers.py), and the refresh runs after the commit.

    Importing the services registers this module's signals (``ticket_service.create|update|delete|reopen_ticket``,
    ``comment_service.create|resolve_grievance_by_comment``) so other modules can bind to them by name.
    """
    from grievance_social_protection import services  # noqa: F401
