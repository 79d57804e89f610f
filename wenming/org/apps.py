from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "wenming.org"
    label = "org"
    verbose_name = _("组织与阵地")

    def ready(self):
        from . import datasets, home  # noqa: F401  (register the home cards and the Excel ledgers)
