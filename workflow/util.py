"""The result dictionary every service, adaptor and handler of the broker answers (spec workflow.md §1).

The key is ``details`` here (core services say ``detail``): callers of workflows read ``message``."""


def result(success, data=None, message=None, details=None):
    """``{"success": bool}`` plus ``data``, ``message`` and ``details`` only when truthy (a workflow returning
    ``None`` yields no ``data`` key)."""
    answer = {"success": bool(success)}
    if data:
        answer["data"] = data
    if message:
        answer["message"] = message
    if details:
        answer["details"] = details
    return answer
