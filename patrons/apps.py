from django.apps import AppConfig
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _

from patrons.permcache import forget_permissions
from patrons.roles import ensure_roles
from patrons.sessions import stamp_sign_in


def _create_roles(sender, **kwargs):
    if sender.name == "notifications":  # the last of our apps: every permission exists now
        ensure_roles()


class PatronsConfig(AppConfig):
    name = "patrons"
    verbose_name = _("Patrons and branches")

    def ready(self):
        post_migrate.connect(_create_roles, dispatch_uid="patrons_create_roles")
        user_logged_in.connect(stamp_sign_in, dispatch_uid="patrons_session_clocks")
        # Any change to who holds which permission makes the cached permission sets stale.
        user = self.apps.get_model(settings.AUTH_USER_MODEL)
        auth = self.apps.get_app_config("auth")
        group, permission = auth.get_model("Group"), auth.get_model("Permission")
        for model in (user, group, permission):
            label = model._meta.label
            post_save.connect(forget_permissions, sender=model, dispatch_uid=f"perms_saved_{label}")
            post_delete.connect(forget_permissions, sender=model, dispatch_uid=f"perms_deleted_{label}")
        for through in (user.groups.through, user.user_permissions.through, group.permissions.through):
            m2m_changed.connect(forget_permissions, sender=through, dispatch_uid=f"perms_m2m_{through._meta.label}")
