"""Notices for the ledger's events (sent after commit)."""

from django.dispatch import receiver

from wenming.ledger import signals

from .services import notify


@receiver(signals.star_reached)
def tell_new_star(sender, volunteer, level, previous_level, total_minutes, **kwargs):
    notify(
        volunteer,
        "star_reached",
        f"恭喜您成为{level}星级志愿者！",
        f"您累计服务时长已达{total_minutes // 60}小时，感谢您的坚持与奉献。",
        "/me/hours/",
    )


@receiver(signals.hours_settled)
def tell_hours_settled(sender, record, volunteer, **kwargs):
    hours = f"{abs(record.minutes) / 60:g}"
    if record.adjustment_of_id:
        sign = "增加" if record.minutes > 0 else "减少"
        title = f"服务时长已更正：{sign}{hours}小时"
    else:
        title = f"新增{'核验' if record.kind == 'verified' else '补录'}时长{hours}小时"
    notify(volunteer, "hours_settled", title, f"{record.title}（{record.service_date:%Y-%m-%d}）", "/me/records/")
