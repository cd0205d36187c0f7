def test_demo_appeals_cover_every_stage(areas):
    from bianmin.accounts.demo import load_demo_accounts
    from bianmin.appeals.demo import load_demo_appeals
    from bianmin.appeals.models import Appeal

    load_demo_accounts()
    result = load_demo_appeals(work_orders=28)
    assert result["appeals"] == 32
    statuses = set(Appeal.objects.values_list("status", flat=True))
    assert {"registered", "assigned", "contacted", "in_progress", "followed_up", "closed", "reopened"} <= statuses
    assert set(Appeal.objects.values_list("channel", flat=True)) == {"hotline12345", "phone", "reception", "suggestion_box"}
    assert load_demo_appeals() == {"appeals": 32}  # a second run adds nothing


def test_every_demo_work_order_is_one_the_importer_accepts(areas):
    """`bianmin up` loads 360 work orders in one batch, refused whole on a single bad row: an
    enterprise's report without a contact name stopped the demo city from loading. Every month's
    mix of texts, at the demo's size, passes the importer's rules."""
    import datetime as dt
    import random

    from conftest import GUDONG, GULOU, GUXI
    from django.utils import timezone

    from bianmin.appeals import importer
    from bianmin.appeals.demo import work_orders_for

    townships = [areas[GUDONG], areas[GUXI]]
    for months_back in range(12):  # the registration times must lie in the past
        now = timezone.localtime() - dt.timedelta(days=30 * months_back)
        orders = work_orders_for(random.Random(12345), now, townships, [], 360)
        assert len(importer.validate_records(orders, areas[GULOU])) == 360
