"""Routes of 好差评 in the scope matrix. Each `make` completes a case afresh in 鼓东 through the
cases services (the catalog row for it is plain test setup)."""

from __future__ import annotations

import itertools

from bianmin.accounts.roles import Role

from . import GUDONG, Exempt, KeyScoped, Public, Req, Scoped, Staff

_n = itertools.count(1)


def completed_case(w, *, window=True):
    from datetime import date

    from bianmin.cases import services
    from bianmin.cases.services import Applicant
    from bianmin.catalog.models import Department, Item, StandardItem
    from bianmin.core.validators import make_id_number
    from bianmin.regions.models import Window

    n = next(_n)
    site = w.site(GUDONG)
    dept, _ = Department.objects.get_or_create(code="M-EVAL-D", defaults={
        "name": "矩阵民政", "category": "民政", "area": w.areas[GUDONG]})
    si = StandardItem.objects.create(code=f"M-EVAL-{n:05d}", name=f"矩阵评价事项{n}", item_type="benefit",
                                     competent_department=dept, implementing_body="街道办事处", legal_limit_days=20)
    item = Item.objects.create(standard_item=si, area=site.area, site=site, promised_limit_days=10,
                               implementation_code=f"M-EVAL-{n:05d}-{site.code}")
    win = Window.objects.get_or_create(site=site, number="9", defaults={"name": "矩阵窗口"})[0] if window else None
    actor = w.principal("city")
    applicant = Applicant(kind="person", name="矩阵评价人", id_number=make_id_number("350102", date(1981, 1, 1), n),
                          mobile=f"1390000{n:04d}")
    case = services.case_submit(actor=actor, site=site, item=item, applicant=applicant, window=win)
    services.case_accept(actor=actor, case_id=case.pk)
    return services.case_complete(actor=actor, case_id=case.pk, result="approved")


def linked_case(w):
    from bianmin.evaluations.services import evaluation_link_issue

    case = completed_case(w)
    evaluation_link_issue(case=case, send_sms=False)
    return case


def token(w):
    from bianmin.evaluations.links import token_for

    return token_for(linked_case(w).evaluation_link.nonce)


def evaluation(w, grade=5):
    from bianmin.evaluations.services import evaluation_submit

    case = completed_case(w)
    return evaluation_submit(case_id=case.pk, grade=grade, channel="web", actor=None,
                             reasons=["attitude"] if grade <= 2 else []).evaluation


def kiosk(w):
    case = completed_case(w)
    return Req("/api/v1/evaluations/kiosk", method="post", json=True,
               data={"acceptance_number": case.acceptance_number, "mobile_last4": case.mobile[-4:], "grade": 5})


def provincial(w):
    case = completed_case(w)
    return Req("/api/v1/evaluations/provincial", method="post", json=True,
               data={"external_id": f"M-PROV-{next(_n)}", "acceptance_number": case.acceptance_number,
                     "source": "prov_hall", "grade": 4})


ROUTES = [
    Public("api:evaluation_reasons"),
    Public("evaluations:public-form", make=lambda w: f"/evaluations/e/{token(w)}/"),
    Public("evaluation-short-link", ok=(302,), make=lambda w: f"/e/{linked_case(w).evaluation_link.short_code}"),
    Public("api:submit_by_link", ok=(201,), make=lambda w: Req(f"/api/v1/evaluations/link/{token(w)}", method="post",
                                                                 json=True, data={"grade": 5})),
    Staff("evaluations:list"),
    Staff("evaluations:flagged"),
    Staff("evaluations:reports"),
    Staff("api:list_evaluations"),
    Staff("api:evaluation_reports_status"),
    Scoped("api:get_evaluation", make=lambda w: f"/api/v1/evaluations/{evaluation(w).pk}"),
    Scoped("evaluations:case-qr-svg", make=lambda w: f"/evaluations/cases/{completed_case(w).pk}/qr.svg"),
    Scoped("evaluations:case-qr-png", make=lambda w: f"/evaluations/cases/{completed_case(w).pk}/qr.png"),
    Scoped("evaluations:case-slip", make=lambda w: f"/evaluations/cases/{completed_case(w).pk}/slip/"),
    Scoped("evaluations:record", make=lambda w: f"/evaluations/cases/{completed_case(w).pk}/record/"),
    Scoped("evaluations:window-screen", make=lambda w: f"/evaluations/windows/{completed_case(w).window_id}/screen/"),
    Scoped("api:evaluation_case_link", make=lambda w: Req(f"/api/v1/evaluations/cases/{completed_case(w).pk}/link",
                                                          method="post", json=True, data={})),
    Scoped("api:evaluation_record", ok=(201,), make=lambda w: Req(
        "/api/v1/evaluations/record", method="post", json=True,
        data={"case_id": completed_case(w).pk, "channel": "paper", "grade": 4}), role=Role.WINDOW_CLERK),
    KeyScoped("api:submit_by_kiosk", make=kiosk, scopes=["evaluations.kiosk"], ok=(201,)),
    KeyScoped("api:submit_provincial", make=provincial, scopes=["evaluations.provincial"], ok=(201,)),
    Exempt("api:submit_by_device", reason="设备密钥须绑定窗口（矩阵的系统密钥不绑定窗口）：401/403/本窗口见 "
                                           "tests/evaluations/test_channels.py::test_device_keys"),
]
