"""The workflow's services: one function per transition of `ill.lifecycle.REQUEST`, plus the
things staff and patrons do to a request without changing its state.

Each runs in a transaction, locks the request row (`SELECT … FOR UPDATE`), checks its move against
the lifecycle's table (`transitions.apply`), changes the request, writes a `RequestEvent` and queues
the patron's e-mail to be sent after commit (`ill.notices`). Views, admin actions and Celery tasks
call these; nothing else assigns `Request.status`. Money goes through `fees` from here.

    intake      submit_request (every rule of DESIGN.md §3), submit
    review      mark_reviewed, reject, cancel
    ordering    order, mark_unfilled (and the cascade), close_unfilled, close_not_needed
    arrival     record_shipment, record_arrival, notify_arrival
    counter     accept_charge, record_payment, hand_over, take_back, return_by_patron, send_back,
                close_not_collected
    extensions  request_extension, forward_extension, grant_extension, refuse_extension
    transitions apply, ensure_can, add_note (the lifecycle's one way in)
"""

from ill.services.arrival import (
    SHIPMENT_EMPTY,
    ArrivedItem,
    notify_arrival,
    patron_due_date,
    preview_shipment,
    record_arrival,
    record_shipment,
    send_arrival_notice,
)
from ill.services.counter import (
    accept_charge,
    close_not_collected,
    hand_over,
    record_payment,
    return_by_patron,
    send_back,
    take_back,
)
from ill.services.extensions import (
    EXTENSION_NOT_OPEN,
    can_extend,
    forward_extension,
    grant_extension,
    refuse_extension,
    request_extension,
)
from ill.services.intake import next_request_number, preview, submit, submit_request
from ill.services.ordering import close_not_needed, close_unfilled, mark_unfilled, order, support_warning
from ill.services.review import cancel, mark_reviewed, reject
from ill.services.transitions import add_note, can, ensure_can

__all__ = [
    "SHIPMENT_EMPTY",
    "EXTENSION_NOT_OPEN",
    "ArrivedItem",
    "accept_charge",
    "add_note",
    "can",
    "can_extend",
    "cancel",
    "close_not_collected",
    "close_not_needed",
    "close_unfilled",
    "ensure_can",
    "forward_extension",
    "grant_extension",
    "hand_over",
    "mark_reviewed",
    "mark_unfilled",
    "next_request_number",
    "notify_arrival",
    "order",
    "patron_due_date",
    "preview",
    "preview_shipment",
    "record_arrival",
    "record_payment",
    "record_shipment",
    "refuse_extension",
    "reject",
    "request_extension",
    "return_by_patron",
    "send_arrival_notice",
    "send_back",
    "submit",
    "submit_request",
    "support_warning",
    "take_back",
]
