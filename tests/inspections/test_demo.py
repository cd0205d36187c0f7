"""The demo data: two past cycles and a running one, with findings and notices in every state."""

from __future__ import annotations

from datetime import date

from conftest import CITY, GULOU

from bianmin.inspections.demo import load_demo_inspections
from bianmin.inspections.models import Cycle, FieldCheck, Notice


def test_the_demo_has_every_state(make_user, sites, make_cases, calendar, areas):
    make_user("inspector", CITY, username="city_inspector")
    make_user("district_admin", GULOU, username="gulou_admin")
    for day in (date(2025, 12, 10), date(2026, 2, 10), date(2026, 4, 10)):
        for key in ("gudong", "guxi", "taijiang"):
            make_cases(key, 2, completed=day)
    counts = load_demo_inspections(today=date(2026, 6, 15))
    assert counts["cycles"] == 3
    assert [(c.period_start, c.status) for c in Cycle.objects.order_by("period_start")] == [
        (date(2026, 1, 1), "closed"), (date(2026, 3, 1), "closed"), (date(2026, 5, 1), "running")]
    statuses = set(Notice.objects.values_list("status", flat=True))
    assert statuses == {"issued", "answered", "returned", "accepted"}
    assert Notice.objects.filter(on_time=False).exists() and Notice.objects.filter(on_time=True).exists()
    assert Notice.objects.filter(escalated_for__isnull=False).exists()
    assert Notice.objects.filter(cycle__status="running", status="issued", deadline__gte=date(2026, 6, 15)).exists()
    checks = set(FieldCheck.objects.values_list("method", "status"))
    assert {("onsite", "finished"), ("phone", "finished"), ("mystery", "published"), ("mystery", "finished")} <= checks
    assert load_demo_inspections(today=date(2026, 6, 15)) == {"skipped": 1}
