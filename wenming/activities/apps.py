from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "wenming.activities"
    label = "activities"
    verbose_name = _("活动与签到")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import home  # noqa: F401  (register the console home card)
