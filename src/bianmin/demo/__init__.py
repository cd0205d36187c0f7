"""The demo city, loaded through every app's services (``bianmin demo``, and ``bianmin up`` on an
empty database), and the city-year generator at scale (``bianmin demo --scale N``, ``scale.py``).

This is the project level: it knows every app, as ``bianmin/api.py`` and ``bianmin/urls.py`` do,
so no app (core included) has to import the others to load them. An app adding demo data adds its
step below, in its own line, after the steps whose data it uses."""

from __future__ import annotations

import time
from collections.abc import Callable


def steps() -> list[tuple[str, Callable[[], object]]]:
    """The demo city's data, in the spine's order: each step uses what the steps before it made."""
    from bianmin.accounts.demo import load_demo_accounts
    from bianmin.appeals.demo import load_demo_appeals
    from bianmin.cases.demo import load_demo_cases
    from bianmin.catalog.demo import load_demo_catalog
    from bianmin.engagement.demo import load_demo_engagement
    from bianmin.evaluations.demo import load_demo_evaluations
    from bianmin.figures.demo import load_demo_figures
    from bianmin.figures.rollups import rebuild
    from bianmin.followups.demo import load_demo_followups
    from bianmin.inspections.demo import load_demo_inspections
    from bianmin.kiosks.demo import load_demo_kiosks
    from bianmin.policies.demo import load_demo_policies
    from bianmin.regions.demo import load_demo_sites

    return [
        ("服务场所", load_demo_sites),
        ("事项目录与进驻", load_demo_catalog),
        ("演示账号", load_demo_accounts),
        ("办件", load_demo_cases),
        ("诉求", load_demo_appeals),
        ("好差评", load_demo_evaluations),
        ("督查", load_demo_inspections),
        ("回访与整改", load_demo_followups),
        ("惠企政策", load_demo_policies),
        ("统计基础数据（村居位置、上线登记）", load_demo_figures),
        ("自助终端", load_demo_kiosks),
        ("座谈培训与提案", load_demo_engagement),
        # The bulk paths above skip the roll-up upkeep: rebuild the figures once at the end.
        ("统计汇总", rebuild),
    ]


def load_demo(*, out: Callable[[str], object] | None = None) -> None:
    """Load the areas, then every step; `out` receives a line per step with its time."""
    from django.core.management import call_command

    call_command("load_areas", verbosity=1 if out else 0)
    for label, function in steps():
        started = time.monotonic()
        function()
        if out:
            out(f"  {label}：{time.monotonic() - started:.1f} 秒")
    if out:
        out("演示数据载入完成")


def database_is_empty() -> bool:
    from bianmin.regions.models import Area

    return not Area.objects.exists()


def real_accounts() -> int:
    """How many accounts the database holds that the demo did not create."""
    from bianmin.accounts.models import User

    return User.objects.filter(is_demo=False).count()
