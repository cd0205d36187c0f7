"""The default result classes of a reply (STANDARDS.md, Proposals): A 已解决或采纳, B 正在解决或列入
计划, C 留作参考. A locality with the four-class scheme edits them in the admin."""

from django.db import migrations

DEFAULTS = [
    ("A", "已解决或采纳", 1),
    ("B", "正在解决或列入计划", 2),
    ("C", "留作参考", 3),
]


def add_defaults(apps, schema_editor):
    ProposalClass = apps.get_model("engagement", "ProposalClass")
    for code, label, position in DEFAULTS:
        ProposalClass.objects.get_or_create(code=code, defaults={"label": label, "position": position})


class Migration(migrations.Migration):
    dependencies = [("engagement", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
