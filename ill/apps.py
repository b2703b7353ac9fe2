from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IllConfig(AppConfig):
    name = "ill"
    verbose_name = _("Interlibrary loan")

    def ready(self):
        from django.db.models.signals import post_migrate

        from ill.roles import ensure_roles

        def create_roles(sender, **kwargs):
            if sender.name == "notifications":  # the last of our apps: every permission exists now
                ensure_roles()

        post_migrate.connect(create_roles, dispatch_uid="ill_create_roles")
