from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Iso18626Config(AppConfig):
    name = "iso18626"
    verbose_name = _("ISO 18626 messaging")
