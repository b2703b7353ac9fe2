from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from patrons.roles import ensure_roles


def _create_roles(sender, **kwargs):
    if sender.name == "notifications":  # the last of our apps: every permission exists now
        ensure_roles()


class PatronsConfig(AppConfig):
    name = "patrons"
    verbose_name = _("Patrons and branches")

    def ready(self):
        post_migrate.connect(_create_roles, dispatch_uid="patrons_create_roles")
