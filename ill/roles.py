"""The two staff roles as Django groups, created (and kept up to date) after every migrate."""

from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

CIRCULATION_STAFF = "Circulation staff"
ILL_ADMINS = "ILL administrators"

_STAFF_PERMS = [
    "ill.work_desk",
    "ill.view_request",
    "ill.view_requestevent",
    "ill.view_lendinginstitution",
    "ill.view_localholding",
    "ill.view_extensionrequest",
    "patrons.view_patron",
    "patrons.view_branch",
    "patrons.view_laboratory",
    "fees.view_feeschedule",
    "fees.view_budgetcode",
    "fees.view_charge",
    "fees.view_payment",
    "fees.view_shipment",
    "fees.view_budgetledgerentry",
    "fees.view_supportbudget",
    "notifications.view_outboxmessage",
]
_ADMIN_APPS = ["ill", "patrons", "fees", "notifications"]

ROLE_LABELS = {CIRCULATION_STAFF: _("Circulation staff"), ILL_ADMINS: _("ILL administrators")}


def _perms(codes):
    found = []
    for code in codes:
        app_label, codename = code.split(".")
        found.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
    return found


def ensure_roles(**kwargs) -> tuple[Group, Group]:
    staff, _created = Group.objects.get_or_create(name=CIRCULATION_STAFF)
    staff.permissions.set(_perms(_STAFF_PERMS))
    admins, _created = Group.objects.get_or_create(name=ILL_ADMINS)
    admins.permissions.set(
        list(Permission.objects.filter(content_type__app_label__in=_ADMIN_APPS)) + _perms(["ill.work_desk"])
    )
    return staff, admins
