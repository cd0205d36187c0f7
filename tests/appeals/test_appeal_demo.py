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
