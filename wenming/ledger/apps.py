from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "wenming.ledger"
    label = "ledger"
    verbose_name = _("时长、积分与星级")

    def ready(self):
        from . import datasets, home  # noqa: F401  (register the home cards and the Excel ledger)
