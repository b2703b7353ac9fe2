from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class Iso18626Config(AppConfig):
    name = "iso18626"
    verbose_name = _("ISO 18626 messaging")

    def ready(self):
        """The flows: the handlers of what peers send us, and the listeners that tell peers what our
        desks did (ill's request history, the lending history)."""
        from ill.models import RequestEvent
        from iso18626 import borrowing, dispatch, lending
        from lending.models import LendingEvent

        dispatch.register("request", lending.handle_request)
        dispatch.register("requestingAgencyMessage", lending.handle_action)
        dispatch.register("supplyingAgencyMessage", borrowing.handle_supplier_message)
        post_save.connect(borrowing.on_request_event, sender=RequestEvent, dispatch_uid="iso18626.borrowing")
        post_save.connect(lending.on_lending_event, sender=LendingEvent, dispatch_uid="iso18626.lending")
