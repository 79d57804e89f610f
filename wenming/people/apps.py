from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "wenming.people"
    label = "people"
    verbose_name = _("志愿者与队伍")

    def ready(self):
        from . import datasets, home  # noqa: F401  (register the home card and the Excel ledgers)
