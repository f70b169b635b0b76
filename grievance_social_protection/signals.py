def bind_service_signals():
    """No bindings yet: follow-up tasks (spec §9.2) arrive with the task-rules issue.

    Importing the services registers this module's signals (``ticket_service.create|update|delete|reopen_ticket``,
    ``comment_service.create|resolve_grievance_by_comment``) so other modules can bind to them by name.
    """
    from grievance_social_protection import services  # noqa: F401
