import pytest
from evaluations.conftest import (  # noqa: F401  (the same sites, items, clerks and case factory)
    calendar,
    clerks,
    completed_case,
    device_key,
    django_db_setup,
    items,
    sites,
    system_key,
)


@pytest.fixture
def bad_review(completed_case, django_capture_on_commit_callbacks):  # noqa: F811  (the fixture imported above)
    from bianmin.evaluations.services import evaluation_submit

    def _make(site="gudong", window="w1", grade=1, **kw):
        case = completed_case(site=site, window=window, **kw)
        with django_capture_on_commit_callbacks(execute=True):
            e = evaluation_submit(case_id=case.pk, grade=grade, channel="web", actor=None, reasons=["attitude"],
                                  text="窗口人员态度冷淡").evaluation
        return e

    return _make
