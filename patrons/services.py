"""Changes to patrons that staff make at the desk."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from patrons.models import Patron

BLOCK_NEEDS_REASON = _("Give the reason for the block; the patron sees it.")


@transaction.atomic
def block(patron: Patron, *, reason: str) -> Patron:
    """Stop the patron from submitting requests (e.g. a lost book, unpaid charges)."""
    reason = reason.strip()
    if not reason:
        raise ServiceError(BLOCK_NEEDS_REASON, code="block_reason", field="reason")
    patron = Patron.objects.select_for_update().get(pk=patron.pk)
    patron.blocked, patron.block_reason = True, reason[:200]
    patron.save(update_fields=["blocked", "block_reason", "updated_at"])
    return patron


@transaction.atomic
def unblock(patron: Patron) -> Patron:
    patron = Patron.objects.select_for_update().get(pk=patron.pk)
    patron.blocked, patron.block_reason = False, ""
    patron.save(update_fields=["blocked", "block_reason", "updated_at"])
    return patron
