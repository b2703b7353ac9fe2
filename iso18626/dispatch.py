"""Who handles a received ISO 18626 message: a registry the flows fill when the apps are ready.

    from iso18626 import dispatch
    dispatch.register("request", handle_request)                   # in a flows module's AppConfig.ready()
    dispatch.register("requestingAgencyMessage", handle_action)
    dispatch.register("supplyingAgencyMessage", handle_supplier_message)

A handler is called by `transport.receive` inside the transaction that stores the message, after the
sender is authenticated, the body validated and duplicates dropped:

    handler(message, *, peer, stored) -> None

`message` is the parsed `iso18626.xml` dataclass, `peer` the `iso18626.models.Peer` it came from,
`stored` the `iso18626.models.Message` row (direction "in"). Returning means messageStatus OK.
Raising `Refused(error_type, error_value)` means an ERROR confirmation with that errorData; whatever
the handler wrote to the database before raising is rolled back (a savepoint), the message row itself
is kept (state "rejected") so a repeat gets the same answer. A service's refusal (core.errors.
ServiceError: a note too long, a move the request's state no longer allows) is answered the same way,
as UnrecognisedDataValue (UnsupportedActionType for a move not allowed). Any other exception is a bug: the whole
receipt is rolled back and the peer gets HTTP 500, so it sends again later.

A handler may queue messages of its own (`transport.queue`): they are sent after the commit.
"""

from __future__ import annotations

from collections.abc import Callable

from core.errors import ServiceError, TransitionNotAllowed

Handler = Callable[..., None]

_handlers: dict[str, Handler] = {}


class Refused(Exception):
    """A handler's "no": becomes errorData (error_type one of `iso18626.xml.ERROR_TYPES`)."""

    def __init__(self, error_type: str, error_value: str = ""):
        self.error_type = error_type
        self.error_value = error_value
        super().__init__(f"{error_type}: {error_value}")


def register(message_type: str, handler: Handler) -> None:
    """Make `handler` the one for `message_type` ("request", "supplyingAgencyMessage" or
    "requestingAgencyMessage"); registering again replaces the previous one (tests use that)."""
    if message_type not in ("request", "supplyingAgencyMessage", "requestingAgencyMessage"):
        raise ValueError(f"no handler can be registered for {message_type!r}")
    _handlers[message_type] = handler


def unregister(message_type: str) -> None:
    _handlers.pop(message_type, None)


def handler_for(message_type: str) -> Handler | None:
    return _handlers.get(message_type)


def handle(message, *, peer, stored) -> None:
    """Call the registered handler; with none, refuse (UnsupportedActionType for an action, else
    UnrecognisedDataElement)."""
    handler = _handlers.get(message.message_type)
    if handler is None:
        raise Refused(
            "UnsupportedActionType" if message.message_type == "requestingAgencyMessage" else "UnrecognisedDataElement",
            f"{message.message_type} is not handled here",
        )
    try:
        handler(message, peer=peer, stored=stored)
    except TransitionNotAllowed as exc:
        raise Refused("UnsupportedActionType", str(exc)[:500]) from exc
    except ServiceError as exc:
        where = f"{exc.field}: " if exc.field else ""
        raise Refused("UnrecognisedDataValue", f"{where}{exc}"[:500]) from exc
