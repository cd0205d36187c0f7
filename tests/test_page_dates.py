"""Boundary days on the pages that take a period (the rates, the three ledgers in HTML and xlsx,
the audit log): 9999-12-31 and 0001-01-01 were 500s; now a 422 page saying so in Chinese."""

from __future__ import annotations

import pytest
from conftest import CITY

PAGES = ["/figures/rates/", "/followups/ledgers/followups/", "/followups/ledgers/problems/",
         "/followups/ledgers/rectifications/"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("query", [{"from": "0001-01-01"}, {"to": "9999-12-31"},
                                   {"from": "2026-01-01", "to": "9999-12-31", "format": "xlsx"}])
def test_followups_pages_refuse_days_out_of_range(client, make_user, path, query):
    client.force_login(make_user("city_admin", CITY))
    r = client.get(path, query)
    assert r.status_code == 422
    assert "日期应在 1900-01-01 至 2999-12-31 之间" in r.content.decode()


@pytest.mark.parametrize("query", [{"date_from": "0001-01-01"}, {"date_to": "9999-12-31"}])
def test_audit_page_refuses_days_out_of_range(client, make_user, query):
    client.force_login(make_user("city_admin", CITY))
    r = client.get("/accounts/audit/", query)
    assert r.status_code == 422
    assert "日期应在 1900-01-01 至 2999-12-31 之间" in r.content.decode()
    assert client.get("/accounts/audit/export.xlsx", query).status_code == 400


def test_an_export_jobs_period_is_checked_too(make_user):
    from bianmin.core.errors import Invalid
    from bianmin.followups.exports import _period

    with pytest.raises(Invalid, match="日期应在"):
        _period({"from": "2026-01-01", "to": "9999-12-31"})
