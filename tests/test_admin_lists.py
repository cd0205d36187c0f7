"""Django admin lists join only the tables they show.

With ``list_select_related = False`` (the default) and a foreign key in ``list_display``, the admin
calls ``select_related()`` with no arguments, which follows every non-null foreign key, and theirs:
the Evaluation list joined 14 tables (case → item → standard item → department → area, site → area,
received site → area…), the ProvincialReport list 16. Past PostgreSQL's ``geqo_threshold`` and
``join_collapse_limit``, with statistics that say the tables are empty (ANALYZE ran while another
test's rows were uncommitted: 0 live tuples over hundreds of pages), the planner chose nested
loops joined by filters alone, a product of every table's rows: the CI's minutes-long stall in
``test_admin_is_for_staff_only``. Each admin names the relations its list shows instead."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from scope_matrix import World

MAX_JOINS = 3


@pytest.fixture
def city(areas):
    client = Client()
    client.force_login(World(areas).user("city"))
    return client


def test_every_admin_list_joins_at_most_a_few_tables(city):
    worst = {}
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        with CaptureQueriesContext(connection) as ctx:
            assert city.get(url).status_code == 200, url
        worst[url] = max((q["sql"].count(" JOIN ") for q in ctx.captured_queries), default=0)
    assert {url: n for url, n in worst.items() if n > MAX_JOINS} == {}
