from django.db import migrations

DEFAULT_REASONS = [
    ("attitude", "服务态度差"), ("slow", "办理时间长、效率低"), ("many_trips", "多次跑动、反复提交材料"),
    ("unclear_guide", "办事指南不清楚、告知不一次到位"), ("not_done", "未能办成"), ("fee", "乱收费"),
    ("environment", "办事环境差、排队久"), ("system", "系统故障、网上办理不便"), ("other", "其他"),
]


def add_reasons(apps, schema_editor):
    ReasonOption = apps.get_model("evaluations", "ReasonOption")
    for i, (code, label) in enumerate(DEFAULT_REASONS):
        ReasonOption.objects.get_or_create(code=code, defaults={"label": label, "order": i * 10})


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0001_initial")]
    operations = [migrations.RunPython(add_reasons, migrations.RunPython.noop)]
