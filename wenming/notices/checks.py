"""Start-up checks of the outside channels: a typo in WENMING_NOTIFY_CHANNELS or a webhook
without its address or key shows at `wenming check` / runserver / migrate, not as deliveries
that quietly fail two hours later."""

from django.core import checks

from .channels import WebhookChannel, configured_names, get_channel


@checks.register(checks.Tags.compatibility)
def check_channels(app_configs=None, **kwargs):
    errors = []
    for name in configured_names():
        try:
            channel = get_channel(name)
        except Exception as e:
            errors.append(checks.Error(
                f"WENMING_NOTIFY_CHANNELS: 无法加载消息渠道 {name!r}（{e}）",
                hint="内置渠道为 log、webhook；自定义渠道写 Channel 子类的完整路径。", id="notices.E001",
            ))
            continue
        if isinstance(channel, WebhookChannel):
            for problem in channel.problems():
                errors.append(checks.Error(f"webhook 消息渠道：{problem}", id="notices.E002"))
    return errors
