"""The kiosk in a real browser (headless Chromium driven by Playwright): a terminal heartbeats and
serves its item list; its screen, paired once, issues a certificate that verifies; the service is
evaluated on the kiosk channel; the screen keeps nothing of the citizen; once revoked, the
certificate no longer verifies. Screenshots go to $KIOSK_SCREENS when set (to look at them);
$KIOSK_VIEWPORT (e.g. 390x844, a phone) sets the screens' window instead of the kiosk's 1080x1920."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from conftest import PASSWORD
from playwright import sync_api as playwright_sync

from .conftest import INSURED, principal

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own database calls
    # (fixtures, assertions) are plain synchronous calls between its steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def shot(page, name: str) -> None:
    folder = os.environ.get("KIOSK_SCREENS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_kiosk_in_a_browser(live_server, make_terminal, browser, kiosk_items, registries, city_admin, manager, tmp_path,
                            settings):
    from bianmin.evaluations.models import Evaluation
    from bianmin.kiosks.models import Certificate, UsageLog
    from bianmin.kiosks.services import terminal_pairing_issue

    settings.BIANMIN_PUBLIC_BASE_URL = live_server.url
    settings.BIANMIN_KIOSK_IDLE_SECONDS = 90
    # The live server serves static files from the source folders (no collectstatic here): plain
    # names, whatever manifest an earlier collectstatic left in the var folder.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    terminal, raw = make_terminal("gudong")
    base = live_server.url
    width, height = (int(n) for n in os.environ.get("KIOSK_VIEWPORT", "1080x1920").split("x"))
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # The terminal's own software: a heartbeat brings it online; its configuration with an ETag.
    api = context.request
    beat = api.post(f"{base}/api/v1/kiosk/terminals/{terminal.code}/heartbeat",
                    headers={"Authorization": f"Bearer {raw}"}, data={"status": "normal", "software_version": "3.3.0"})
    assert beat.status == 200 and beat.json()["state"] == "online"
    config = api.get(f"{base}/api/v1/kiosk/terminals/{terminal.code}/config", headers={"Authorization": f"Bearer {raw}"})
    assert [i["name"] for i in config.json()["items"]] == ["社保缴交证明开具", "无住房证明开具", "高龄津贴发放"]
    again = api.get(f"{base}/api/v1/kiosk/terminals/{terminal.code}/config",
                    headers={"Authorization": f"Bearer {raw}", "If-None-Match": config.headers["etag"]})
    assert again.status == 304

    # The screen: unpaired, it asks for the pairing; paired with the one-time code, the item list.
    code = terminal_pairing_issue(actor=principal(city_admin), terminal=terminal)
    page.goto(f"{base}/kiosk/")
    assert page.url == f"{base}/kiosk/pair/"
    page.fill("input[name=terminal]", terminal.code)
    page.fill("input[name=code]", code)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/kiosk/")
    device_cookie = next(c for c in context.cookies() if c["name"] == "bianmin_device")
    assert device_cookie["httpOnly"] and device_cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("bianmin_device") == -1  # no script can read the key
    assert page.locator(".k-tile-main").all_inner_texts() == ["社会保险缴费证明", "无房证明"]
    shot(page, "1-home")

    # A citizen: the item, the identity card (demo reader), the phone on the keypad, the certificate.
    page.click("text=社会保险缴费证明")
    page.click("#k-start")
    page.click("#k-read")
    page.wait_for_function("document.getElementById('k-id').value.length === 18")
    assert page.inner_text("#k-card") == "林**　350102********" + INSURED[0][-4:]
    for digit in "13912345678":
        page.click(f".k-keypad button[data-key='{digit}']")
    shot(page, "2-identify")
    page.click("#k-submit")
    page.wait_for_url(f"{base}/kiosk/done/")
    certificate = Certificate.objects.get()
    assert page.inner_text("#k-number") == certificate.number
    shot(page, "3-done")
    pdf = api.get(f"{base}/kiosk/certificate.pdf")  # what the print button sends to the printer
    assert pdf.status == 200 and pdf.headers["cache-control"].startswith("no-store")
    document = pdf.body()
    assert hashlib.sha256(document).hexdigest() == certificate.sha256

    # The service evaluated on the kiosk channel of 好差评 (evaluations' service, the terminal's key).
    page.click("#k-evaluate")
    page.click("label.k-grade:has(input[value='2'])")
    assert page.is_visible("#k-reasons")  # a bad grade asks for its reasons
    page.click("label.k-grade:has(input[value='4'])")
    assert not page.is_visible("#k-reasons")
    shot(page, "4-evaluate")
    page.click("#k-eval-submit")
    page.wait_for_selector("#k-thanks")
    evaluation = Evaluation.objects.get()
    assert evaluation.channel == "kiosk" and evaluation.grade == 4 and evaluation.case_id == certificate.case_id
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/kiosk/")

    # Nothing of the citizen is left in the browser.
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert {c["name"] for c in context.cookies()} <= {"bianmin_device", "csrftoken"}
    try:
        page.go_back()  # the page before: the evaluation's answer to a POST, never cached (no-store)
        assert certificate.number not in page.content()
    except playwright_sync.Error as exc:
        assert "ERR_CACHE_MISS" in str(exc)
    assert UsageLog.objects.get().outcome == "success"

    # The idle timeout clears a visit left on the screen (the page clock moved, no waiting).
    page.clock.install()
    page.goto(f"{base}/kiosk/items/{kiosk_items['social'].code}/")
    page.clock.run_for(91_000)
    page.wait_for_url(f"{base}/kiosk/")
    assert UsageLog.objects.filter(outcome="abandoned").count() == 1
    assert errors == []

    # The QR code's page verifies the certificate and the very file; a changed file does not.
    verify_url = f"{base}/kiosk/v/{certificate.number}/{certificate.verify_code}/"
    public = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    public.goto(verify_url)
    assert "证明有效" in public.inner_text(".verdict") and "林**" in public.content()
    original, changed = tmp_path / "证明.pdf", tmp_path / "改动.pdf"
    original.write_bytes(document)
    changed.write_bytes(document.replace(b"/Producer", b"/Producex", 1))
    public.set_input_files("input[type=file]", str(original))
    public.click("form button[type=submit]")
    assert "存档一致，证明有效" in public.inner_text("#verify-result")
    shot(public, "5-verified")
    public.set_input_files("input[type=file]", str(changed))
    public.click("form button[type=submit]")
    assert "可能被改动" in public.inner_text("#verify-result")

    # Revoked by the center's manager on the staff page (reason, audited): no longer verifies.
    staff = browser.new_context(locale="zh-CN").new_page()
    staff.on("dialog", lambda d: d.accept())
    staff.goto(f"{base}/accounts/login/")
    staff.fill("input[name=username]", manager.username)
    staff.fill("input[name=password]", PASSWORD)
    staff.click("main form button[type=submit]")
    staff.wait_for_url(f"{base}/staff/")
    staff.goto(f"{base}/kiosks/certificates/{certificate.number}/")
    staff.fill("textarea[name=reason]", "缴费记录更正，原证明作废")
    staff.click("button:text-is('撤销')")
    staff.wait_for_selector("text=证明已撤销")
    shot(staff, "6-revoked-staff")
    public.goto(verify_url)
    assert "已被撤销" in public.inner_text(".verdict")
    public.set_input_files("input[type=file]", str(original))
    public.click("form button[type=submit]")
    assert "已被撤销，不再有效" in public.inner_text("#verify-result")
    shot(public, "7-revoked-public")
