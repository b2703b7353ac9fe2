from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _

from fees.schedule_cache import schedules_changed


class FeesConfig(AppConfig):
    name = "fees"
    verbose_name = _("Fees and budgets")

    def ready(self):
        # The estimates' cached fee schedules follow every change of a schedule or paper price.
        for name in ("FeeSchedule", "PaperSizePrice"):
            model = self.get_model(name)
            post_save.connect(schedules_changed, sender=model, dispatch_uid=f"schedules_saved_{name}")
            post_delete.connect(schedules_changed, sender=model, dispatch_uid=f"schedules_deleted_{name}")
