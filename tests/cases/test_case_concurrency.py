"""Acceptance numbers under concurrency: clerks accepting at the same site on the same day at the
same moment never share a number (the per-site, per-day counter row is locked)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from bianmin.cases import services
from bianmin.cases.models import Case

from .conftest import at, principal

DAY = date(2026, 3, 2)


@pytest.mark.django_db(transaction=True)
def test_concurrent_acceptances_get_distinct_sequential_numbers(submit, clerk):
    cases = [submit(DAY).pk for _ in range(8)]
    actor = principal(clerk)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker(ids):
        try:
            barrier.wait(timeout=30)
            for pk in ids:
                services.case_accept(actor=actor, case_id=pk, now=at(DAY))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(cases[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    numbers = sorted(Case.objects.filter(pk__in=cases).values_list("acceptance_number", flat=True))
    assert numbers == [f"C-GUDONG-20260302-{i:04d}" for i in range(1, 9)]
