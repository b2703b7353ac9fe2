from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Installed only for its template filters (yen), which e-mails of every app use."""

    name = "core"
    verbose_name = "Core"
