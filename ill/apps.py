from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _

from fees.schedule_cache import schedules_changed
from ill.countcache import counts_changed


class IllConfig(AppConfig):
    name = "ill"
    verbose_name = _("Interlibrary loan")

    def ready(self):
        # The desk's cached worklist counts follow every change of a request or extension request.
        for name in ("Request", "ExtensionRequest"):
            model = self.get_model(name)
            post_save.connect(counts_changed, sender=model, dispatch_uid=f"counts_saved_{name}")
            post_delete.connect(counts_changed, sender=model, dispatch_uid=f"counts_deleted_{name}")
        lender = self.get_model("LendingInstitution")
        post_save.connect(schedules_changed, sender=lender, dispatch_uid="schedules_lender_saved")
        post_delete.connect(schedules_changed, sender=lender, dispatch_uid="schedules_lender_deleted")
