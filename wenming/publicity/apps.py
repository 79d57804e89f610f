from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicityConfig(AppConfig):
    name = "wenming.publicity"
    label = "publicity"
    verbose_name = _("宣传报道")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import datasets, home  # noqa: F401  (register the console home card and the Excel ledger)
