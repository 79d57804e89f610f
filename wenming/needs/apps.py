from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NeedsConfig(AppConfig):
    name = "wenming.needs"
    label = "needs"
    verbose_name = _("群众点单")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import datasets, home  # noqa: F401  (register the console home card and the Excel ledger)
