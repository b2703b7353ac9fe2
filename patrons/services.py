"""Changes to patrons that staff make at the desk; each one is written to the patron's history."""

from axes.utils import reset as reset_sign_in_attempts
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from patrons.models import Patron, PatronEvent
from patrons.signin import sign_in_lock

BLOCK_NEEDS_REASON = _("Give the reason for the block; the patron sees it.")


def log(patron: Patron, *, action: str, actor=None, note: str = "", data: dict | None = None) -> PatronEvent:
    """Record something that happened to a patron (append-only history)."""
    return PatronEvent.objects.create(patron=patron, action=action, actor=actor, note=note, data=data or {})


@transaction.atomic
def block(patron: Patron, *, reason: str, actor=None) -> Patron:
    """Stop the patron from submitting requests (e.g. a lost book, unpaid charges)."""
    reason = reason.strip()
    if not reason:
        raise ServiceError(BLOCK_NEEDS_REASON, code="block_reason", field="reason")
    patron = Patron.objects.select_for_update().get(pk=patron.pk)
    patron.blocked, patron.block_reason = True, reason[:200]
    patron.save(update_fields=["blocked", "block_reason", "updated_at"])
    log(patron, action="blocked", actor=actor, note=patron.block_reason, data={"reason": patron.block_reason})
    return patron


@transaction.atomic
def unblock(patron: Patron, *, actor=None) -> Patron:
    patron = Patron.objects.select_for_update().get(pk=patron.pk)
    previous = patron.block_reason
    patron.blocked, patron.block_reason = False, ""
    patron.save(update_fields=["blocked", "block_reason", "updated_at"])
    log(patron, action="unblocked", actor=actor, data={"previous_reason": previous})
    return patron


@transaction.atomic
def unlock_sign_in(user, *, actor=None) -> int:
    """Lift a sign-in lockout: forget the user's failed sign-ins on every address (django-axes'
    reset), and note it in the patron's history when the user is a patron. Returns how many
    attempt records were removed (0: there was nothing to lift, and nothing is written)."""
    username = user.get_username()
    if not username:
        return 0  # axes' reset with no username would forget every user's attempts
    lock = sign_in_lock(username)
    removed = reset_sign_in_attempts(username=username)
    patron = Patron.objects.filter(user=user).first()
    if removed and patron is not None:
        log(
            patron,
            action="sign_in_unlocked",
            actor=actor,
            data={
                "attempt_records": removed,
                "locked_since": lock.since.isoformat() if lock else None,
                "was_locked": lock is not None,
            },
        )
    return removed


def set_preferred_language(patron: Patron, language: str, *, actor=None) -> bool:
    """The language the patron chose in the switcher becomes their profile's, so that the e-mails
    follow the choice too. True when it changed; an unknown code changes nothing."""
    if language not in dict(settings.LANGUAGES) or patron.preferred_language == language:
        return False
    old = patron.preferred_language
    Patron.objects.filter(pk=patron.pk).update(preferred_language=language)
    patron.preferred_language = language
    log(patron, action="language", actor=actor, data={"from": old, "to": language})
    return True
