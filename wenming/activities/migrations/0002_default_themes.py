"""The default theme tags of seed 000 and 002; a district edits them in the console."""

from django.db import migrations

THEMES = [
    ("学雷锋", False), ("六关爱", False), ("我们的节日·春节", True), ("我们的节日·端午", True),
    ("我们的节日·中秋", True), ("我们的节日·重阳", True), ("理论宣讲", False), ("文化惠民", False),
    ("平安法治", False), ("卫生健康", False), ("科技普及", False), ("教育关爱", False),
]


def add_themes(apps, schema_editor):
    Theme = apps.get_model("activities", "Theme")
    for order, (name, festival) in enumerate(THEMES, start=1):
        Theme.objects.get_or_create(name=name, defaults={"is_festival": festival, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("activities", "0001_initial")]
    operations = [migrations.RunPython(add_themes, migrations.RunPython.noop)]
