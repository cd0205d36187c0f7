"""The kiosk's screens: pairing (an HttpOnly cookie holding a device key), the visit kept only in
the server's session and flushed at the end, no-store pages, every visit one logged use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from .conftest import INSURED, UNINSURED, principal

COOKIE = "bianmin_device"


@pytest.fixture
def paired(make_terminal, city_admin, registries):
    from bianmin.kiosks.services import terminal_pairing_issue

    terminal, _raw = make_terminal("gudong")
    code = terminal_pairing_issue(actor=principal(city_admin), terminal=terminal)
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/kiosk/pair/")
    response = browser.post("/kiosk/pair/", {"terminal": terminal.code.lower(), "code": code.lower(),
                                             "csrfmiddlewaretoken": _token(page)})
    assert response.status_code == 302 and response["Location"] == "/kiosk/"
    terminal.refresh_from_db()
    return terminal, browser, code


def _token(response) -> str:
    import re

    return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.content).group(1).decode()


def test_pairing_sets_an_httponly_strict_cookie_and_is_used_up(paired, client):
    from bianmin.accounts.models import ApiKey

    terminal, browser, code = paired
    cookie = browser.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    key = ApiKey.objects.get(pk=terminal.browser_key_id)
    assert key.digest == ApiKey.digest_of(cookie.value) and key.kind == "device"
    again = client.post("/kiosk/pair/", {"terminal": terminal.code, "code": code})
    assert again.status_code == 422 and "配对码不正确" in again.content.decode()


def test_pairing_again_revokes_the_previous_browser(paired, city_admin):
    from bianmin.kiosks.services import terminal_pairing_issue

    terminal, browser, _ = paired
    code = terminal_pairing_issue(actor=principal(city_admin), terminal=terminal)
    second = Client()
    second.post("/kiosk/pair/", {"terminal": terminal.code, "code": code})
    assert second.get("/kiosk/").status_code == 200
    response = browser.get("/kiosk/")
    assert response.status_code == 302 and response["Location"] == "/kiosk/pair/"


def test_an_unpaired_browser_is_sent_to_pairing(client):
    response = client.get("/kiosk/")
    assert response.status_code == 302 and response["Location"] == "/kiosk/pair/"


def test_a_staff_key_in_the_cookie_is_not_a_kiosk(client, areas):
    from conftest import GUDONG

    from bianmin.accounts.services import apikey_create

    _key, raw = apikey_create(actor=None, name="系统", kind="system", area=areas[GUDONG], scopes=["cases.intake"])
    client.cookies[COOKIE] = raw
    assert client.get("/kiosk/").status_code == 302


def test_home_lists_the_items_and_pages_are_not_stored(paired, kiosk_items):
    _terminal, browser, _ = paired
    response = browser.get("/kiosk/")
    text = response.content.decode()
    assert "社会保险缴费证明" in text and "无房证明" in text
    # Same-origin referrers only (the project's policy): "no-referrer" would make the browser send
    # "Origin: null" with the screens' forms, which the CSRF check rightly refuses.
    assert response["Cache-Control"] == "no-store, max-age=0" and response["Referrer-Policy"] == "same-origin"
    assert "高龄津贴发放" in browser.get("/kiosk/?tab=民政").content.decode()


def test_a_certificate_visit_from_start_to_end(paired, kiosk_items):
    from bianmin.evaluations.models import Evaluation
    from bianmin.kiosks.models import Certificate, UsageLog

    terminal, browser, _ = paired
    code = kiosk_items["social"].code
    token = _token(browser.get(f"/kiosk/items/{code}/"))
    card = browser.get("/kiosk/reader/demo/").json()
    assert card == {"id_number": INSURED[0], "name": INSURED[1]}
    response = browser.post("/kiosk/identify/", {"id_number": card["id_number"], "name": card["name"],
                                                  "mobile": "13912345678", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/kiosk/done/"
    done = browser.get("/kiosk/done/").content.decode()
    certificate = Certificate.objects.get()
    assert certificate.number in done and "林**" in done and INSURED[0] not in done
    pdf = browser.get("/kiosk/certificate.pdf")
    assert pdf.content.startswith(b"%PDF-") and pdf["Cache-Control"].startswith("no-store")
    use = UsageLog.objects.get()
    assert (use.outcome, use.item_id, use.terminal_id) == ("success", kiosk_items["social"].pk, terminal.pk)

    # The service evaluated on the kiosk channel (evaluations' service, the terminal's own key);
    # its acceptance number and phone digits stay in the session, not in the page.
    page = browser.get("/kiosk/evaluate/")
    assert certificate.case.acceptance_number not in page.content.decode() and "5678" not in page.content.decode()
    bad = browser.post("/kiosk/evaluate/", {"grade": "1", "csrfmiddlewaretoken": _token(page)})
    assert bad.status_code == 422 and "原因" in bad.content.decode()
    thanks = browser.post("/kiosk/evaluate/", {"grade": "4", "idempotency_key": "k1", "csrfmiddlewaretoken": _token(page)})
    assert thanks.status_code == 200 and "感谢您的评价" in thanks.content.decode()
    evaluation = Evaluation.objects.get()
    assert (evaluation.channel, evaluation.grade, evaluation.case_id) == ("kiosk", 4, certificate.case_id)

    end = browser.post("/kiosk/end/", {"csrfmiddlewaretoken": _token(page)})
    assert end.status_code == 302 and end["Clear-Site-Data"] == '"cache", "storage"'
    assert browser.get("/kiosk/done/")["Location"] == "/kiosk/"  # the visit is gone
    assert browser.get("/kiosk/certificate.pdf").status_code == 404
    assert UsageLog.objects.count() == 1  # ending a finished visit logs nothing more


def test_an_earlier_case_is_evaluated_with_its_number_and_phone_digits(paired, kiosk_items, registries):
    from bianmin.evaluations.models import Evaluation
    from bianmin.kiosks.models import Certificate

    terminal, browser, _ = paired
    page = browser.get(f"/kiosk/items/{kiosk_items['social'].code}/")
    browser.post("/kiosk/identify/", {"id_number": INSURED[0], "name": INSURED[1], "mobile": "13912345678",
                                      "csrfmiddlewaretoken": _token(page)})
    browser.post("/kiosk/end/", {"csrfmiddlewaretoken": _token(page)})
    number = Certificate.objects.get().case.acceptance_number
    form = browser.get("/kiosk/evaluate/")
    assert 'name="acceptance_number"' in form.content.decode()
    wrong = browser.post("/kiosk/evaluate/", {"acceptance_number": number, "mobile_last4": "0000", "grade": "5",
                                              "csrfmiddlewaretoken": _token(form)})
    assert wrong.status_code == 404 and "未找到该办件" in wrong.content.decode()
    short = browser.post("/kiosk/evaluate/", {"acceptance_number": number, "mobile_last4": "", "grade": "5",
                                              "csrfmiddlewaretoken": _token(form)})
    assert short.status_code == 422 and "后四位" in short.content.decode()
    assert not Evaluation.objects.exists()
    ok = browser.post("/kiosk/evaluate/", {"acceptance_number": number, "mobile_last4": "5678", "grade": "5",
                                           "csrfmiddlewaretoken": _token(form)})
    assert ok.status_code == 200 and Evaluation.objects.get().channel == "kiosk"


def test_the_screens_forms_need_the_csrf_token(paired, kiosk_items):
    _terminal, browser, _ = paired
    browser.get(f"/kiosk/items/{kiosk_items['social'].code}/")
    assert browser.post("/kiosk/evaluate/", {"grade": "5"}).status_code == 403


def test_a_refusal_is_a_failed_use_and_issues_nothing(paired, kiosk_items):
    from bianmin.kiosks.models import Certificate, UsageLog

    _terminal, browser, _ = paired
    token = _token(browser.get(f"/kiosk/items/{kiosk_items['social'].code}/"))
    response = browser.post("/kiosk/identify/", {"id_number": UNINSURED[0], "name": UNINSURED[1], "mobile": "13912345678",
                                                  "csrfmiddlewaretoken": token})
    assert response.status_code == 422 and "未查询到您的社会保险参保缴费记录" in response.content.decode()
    assert not Certificate.objects.exists()
    assert UsageLog.objects.get().outcome == "failed"


def test_a_wrong_mobile_is_asked_again_on_the_same_screen(paired, kiosk_items):
    from bianmin.kiosks.models import UsageLog

    _terminal, browser, _ = paired
    token = _token(browser.get(f"/kiosk/items/{kiosk_items['social'].code}/"))
    response = browser.post("/kiosk/identify/", {"id_number": INSURED[0], "name": INSURED[1], "mobile": "12",
                                                  "csrfmiddlewaretoken": token})
    assert response.status_code == 422 and "手机" in response.content.decode()
    assert not UsageLog.objects.exists()


def test_an_idle_visit_is_abandoned_and_forgotten(paired, kiosk_items, settings):
    from bianmin.kiosks.models import UsageLog

    _terminal, browser, _ = paired
    browser.get(f"/kiosk/items/{kiosk_items['guide'].code}/")
    session = browser.session
    visit = session["kiosk_visit"]
    visit["last"] = (timezone.now() - timedelta(seconds=settings.BIANMIN_KIOSK_IDLE_SECONDS + 1
                                                if hasattr(settings, "BIANMIN_KIOSK_IDLE_SECONDS") else 91)).isoformat()
    session["kiosk_visit"] = visit
    session.save()
    browser.get("/kiosk/identify/")
    assert UsageLog.objects.get().outcome == "abandoned"
    assert "kiosk_visit" not in browser.session


def test_reading_a_guide_to_the_end_is_a_finished_use(paired, kiosk_items):
    from bianmin.kiosks.models import UsageLog

    _terminal, browser, _ = paired
    page = browser.get(f"/kiosk/items/{kiosk_items['guide'].code}/")
    assert "具有本市户籍、年满80周岁的老年人" in page.content.decode()
    browser.post(f"/kiosk/items/{kiosk_items['guide'].code}/", {"csrfmiddlewaretoken": _token(page)})
    assert UsageLog.objects.get().outcome == "success"


def test_an_item_not_offered_here_is_404(paired, kiosk_items, city_admin):
    from bianmin.kiosks.services import item_override_set

    terminal, browser, _ = paired
    item_override_set(actor=principal(city_admin), item=kiosk_items["guide"], terminal=terminal, offered=False)
    assert browser.get(f"/kiosk/items/{kiosk_items['guide'].code}/").status_code == 404
