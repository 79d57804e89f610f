"""The default two-level list of needs (a district edits it in the console)."""

from django.db import migrations

CATEGORIES = [
    ("elderly", "助老助残", [("elderly-visit", "上门探访"), ("elderly-chores", "家务助洁"), ("elderly-escort", "陪同就医"),
                          ("elderly-meal", "助餐送餐")]),
    ("children", "关爱儿童", [("children-tutoring", "课业辅导"), ("children-care", "假期托管"), ("children-company", "陪伴关爱")]),
    ("health", "医疗健康", [("health-clinic", "义诊咨询"), ("health-checkup", "健康体检"), ("health-rehab", "康复指导")]),
    ("legal", "法律咨询", [("legal-advice", "法律咨询"), ("legal-mediation", "矛盾调解")]),
    ("culture", "文化文艺", [("culture-show", "文艺演出"), ("culture-training", "文体培训"), ("culture-reading", "阅读推广")]),
    ("lecture", "理论宣讲", [("lecture-policy", "政策宣讲"), ("lecture-story", "百姓宣讲")]),
    ("science", "科技科普", [("science-popular", "科普讲座"), ("science-digital", "智能手机教学"),
                          ("science-farming", "农技指导")]),
    ("environment", "环境整治", [("environment-cleanup", "清扫保洁"), ("environment-sorting", "垃圾分类"),
                              ("environment-greening", "绿化美化")]),
    ("repair", "便民维修", [("repair-appliance", "家电维修"), ("repair-haircut", "爱心义剪"), ("repair-home", "水电维修")]),
    ("mental", "心理疏导", [("mental-counselling", "心理咨询"), ("mental-company", "情感陪伴")]),
    ("other", "其他", [("other-other", "其他需求")]),
]


def add(apps, schema_editor):
    NeedCategory = apps.get_model("needs", "NeedCategory")
    for i, (code, name, children) in enumerate(CATEGORIES):
        parent, _ = NeedCategory.objects.get_or_create(code=code, defaults={"name": name, "sort_order": i})
        for j, (child_code, child_name) in enumerate(children):
            NeedCategory.objects.get_or_create(
                code=child_code, defaults={"name": child_name, "parent": parent, "sort_order": j}
            )


class Migration(migrations.Migration):
    dependencies = [("needs", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
