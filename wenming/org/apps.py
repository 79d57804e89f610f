from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "wenming.org"
    label = "org"
    verbose_name = _("组织与阵地")

    def ready(self):
        from . import home  # noqa: F401  (registers the home cards)
