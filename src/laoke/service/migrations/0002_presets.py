"""The seed presets of the handling table and the escalation chain (seed 003), so a case can be
filed on a fresh install; both stay editable."""

from django.db import migrations

HANDLING = (
    ("praise", "text", 72),
    ("neutral", "text", 48),
    ("dissatisfied", "phone", 24),
    ("criticism", "visit", 48),
)
CHAIN = (
    (0, "客服/客服经理", "", 24),
    (1, "分公司负责人", "sales_manager", 24),
    (2, "营销部（企划部）", "marketer", 24),
    (3, "公司领导", "general_manager", 48),
)


def install(apps, schema_editor):
    HandlingRule = apps.get_model("service", "HandlingRule")
    EscalationStep = apps.get_model("service", "EscalationStep")
    for level, method, hours in HANDLING:
        HandlingRule.objects.get_or_create(level=level, defaults={"method": method, "due_hours": hours})
    for level, name, role, hours in CHAIN:
        EscalationStep.objects.get_or_create(
            level=level, defaults={"name": name, "role": role, "hours": hours}
        )


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
