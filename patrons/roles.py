"""The two staff roles as Django groups, created (and kept up to date) after every migrate."""

from django.apps import apps as global_apps
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


def _perms(Permission, codes):
    found = []
    for code in codes:
        app_label, codename = code.split(".")
        found.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
    return found


def ensure_roles(apps=global_apps, **kwargs):
    """Create or update the two groups. Run after every migrate (with the migration state's `apps`)
    and by the demo loader; models are looked up through `apps`, so this module loads before them."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    staff, _created = Group.objects.get_or_create(name=CIRCULATION_STAFF)
    staff.permissions.set(_perms(Permission, _STAFF_PERMS))
    admins, _created = Group.objects.get_or_create(name=ILL_ADMINS)
    admins.permissions.set(
        list(Permission.objects.filter(content_type__app_label__in=_ADMIN_APPS)) + _perms(Permission, ["ill.work_desk"])
    )
    return staff, admins
