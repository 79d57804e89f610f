from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    name = "wenming.stats"
    label = "stats"
    verbose_name = _("数据统计")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import rollups

        rollups.connect()
