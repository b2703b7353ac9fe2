"""Errors raised by services. Views turn them into a 4xx page or form error in the user's language."""


class ServiceError(Exception):
    """A business rule refused the operation. `message` is translatable text for the user."""

    status_code = 400

    def __init__(self, message, *, code: str = "invalid", field: str | None = None, params: dict | None = None):
        self.message = message
        self.code = code
        self.field = field
        self.params = params or {}
        super().__init__(str(message) % self.params if self.params else str(message))

    def __str__(self):
        return str(self.message) % self.params if self.params else str(self.message)


class TransitionNotAllowed(ServiceError):
    """The request is not in a state where this action is possible (DESIGN.md §4)."""

    status_code = 409
