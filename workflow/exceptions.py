class PythonWorkflowHandlerException(Exception):
    """Raised by a Python workflow to give its caller a user-facing message (e.g. the invalid headers of a file,
    one per line). ``message`` is formatted with the optional args/kwargs (``str.format``); the string form is
    prefixed with the class name and becomes the result's ``details``."""

    def __init__(self, message="", *args, **kwargs):
        self.message = message.format(*args, **kwargs) if (args or kwargs) else message
        super().__init__(self.message)

    def __str__(self):
        return f"{type(self).__name__}: {self.message}"
