"""The demo data: consistent with the rules, and the live path continues where the bulk left off."""

from __future__ import annotations

from datetime import date

from django.db.models import Count

from bianmin.cases import services
from bianmin.cases.demo import load_demo_cases
from bianmin.cases.models import Case, CaseEvent, State

from .conftest import at, principal


def test_demo_cases_follow_the_rules(calendar, catalog, sites, clerk, person):
    today = date(2026, 3, 31)
    counts = load_demo_cases(days=40, per_center=2.0, per_station=1.0, live_rate=1.0, today=today)
    assert counts["cases"] == Case.objects.count() > 50
    assert load_demo_cases(today=today)["skipped"] == 1  # idempotent
    numbers = list(Case.objects.exclude(acceptance_number=None).values_list("acceptance_number", flat=True))
    assert len(numbers) == len(set(numbers))
    assert not Case.objects.filter(item__standard_item__is_classified=True).exists()
    states = dict(Case.objects.values_list("state").annotate(n=Count("id")))
    assert states.get(State.COMPLETED, 0) > 0
    # Every case has its timeline, starting with the submission.
    assert not Case.objects.exclude(pk__in=CaseEvent.objects.filter(type="submitted").values("case")).exists()
    # visit_count agrees with the visit rows; some cases are 跑多趟.
    for case in Case.objects.annotate(v=Count("visits")):
        assert case.visit_count == case.v
    # Completed cases were completed on or after acceptance; due dates follow the item's limits.
    for case in Case.objects.filter(state=State.COMPLETED):
        assert case.completed_on >= case.accepted_on
        assert case.promised_due_on is not None and case.promised_due_on >= case.accepted_on
    # Transfers happened through the services for the station's 业务转办 item, if it was drawn.
    for case in Case.objects.filter(mode="transfer"):
        assert case.site != case.received_site
        assert case.transfers.get().to_site == case.site
    # A clerk accepting today takes the next number after the demo's.
    new = services.case_submit(actor=principal(clerk), site=sites["gudong"], item=catalog["dibao"], applicant=person,
                               now=at(today))
    services.case_accept(actor=principal(clerk), case_id=new.pk, now=at(today))
    assert Case.objects.filter(acceptance_number=Case.objects.get(pk=new.pk).acceptance_number).count() == 1
