"""Routes of the kiosks (自助终端) in the scope matrix. Terminals are registered through the
service at a kiosk site of the township; certificates are plain rows with a stored file (the
issuing path, with its data source and PDF, is tested in tests/kiosks/)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from bianmin.accounts.roles import Role
from bianmin.core.capabilities import Cap

from . import GUDONG, Capability, DeviceScoped, Exempt, Public, Req, Scoped, Staff

_n = itertools.count(1)
CM = Role.CENTER_MANAGER


def item(w, service="certificate"):
    from bianmin.catalog.models import Department, StandardItem
    from bianmin.kiosks.models import KioskItem

    existing = KioskItem.objects.filter(service=service).first()
    if existing:
        return existing
    dept, _ = Department.objects.get_or_create(code="M-KIOSK-D", defaults={
        "name": "矩阵人社", "category": "劳动保障", "area": w.areas[GUDONG]})
    si = StandardItem.objects.create(code=f"M-KIOSK-{service}", name=f"矩阵{service}", item_type="public_service",
                                     competent_department=dept, implementing_body="街道", legal_limit_days=0)
    return KioskItem.objects.create(standard_item=si, service=service,
                                    source="social_insurance" if service == "certificate" else "")


def terminal(w, code=GUDONG):
    from bianmin.kiosks.services import terminal_register

    item(w)
    n = next(_n)
    return terminal_register(actor=None, site=w.site(code, kind="kiosk"), code=f"MT{code}{n}", serial=f"MSN{code}{n}",
                             model="ZZ", operator="矩阵运维", installed_on=date(2020, 1, 1))


def certificate(w, code=GUDONG):
    from django.utils import timezone

    from bianmin.cases.services import store_file
    from bianmin.kiosks.models import Certificate

    t, _raw = terminal(w, code)
    n = next(_n)
    stored = store_file(data=b"%PDF-1.4 matrix " + str(n).encode(), name="m.pdf")
    return Certificate.objects.create(
        number=f"ZM2026010100{n:06d}", verify_code="MATRIX22", item=item(w), title="矩阵证明", source="social_insurance",
        terminal=t, area=t.area, holder_name="矩阵人", holder_id_number="350102198501011236", issued_at=timezone.now(),
        valid_until=timezone.localdate() + timedelta(days=30), sha256=stored.sha256, file=stored)


def override(w):
    from bianmin.kiosks.services import item_override_set

    t, _ = terminal(w)
    item_override_set(actor=None if False else w.principal("city"), item=item(w, "guide"), terminal=t, offered=False)
    return t


def _today_uses(w, t):
    from django.utils import timezone

    return {"uses": [{"outcome": "success", "duration_ms": 1000, "started_at": timezone.now().isoformat()}]}


def _issue(w, t):
    return Req(f"/api/v1/kiosk/terminals/{t.code}/certificates", method="post", json=True,
               data={"item_code": item(w).code, "id_number": "350102198501011236", "name": "矩阵人", "mobile": "13800001234"})


def _fresh_pdf(w, t):
    from django.utils import timezone

    from bianmin.cases.services import store_file
    from bianmin.kiosks.models import Certificate

    n = next(_n)
    stored = store_file(data=b"%PDF-1.4 device " + str(n).encode(), name="m.pdf")
    c = Certificate.objects.create(
        number=f"ZM2026010200{n:06d}", verify_code="MATRIX22", item=item(w), title="矩阵证明", source="social_insurance",
        terminal=t, area=t.area, holder_name="矩阵人", holder_id_number="350102198501011236", issued_at=timezone.now(),
        valid_until=timezone.localdate(), sha256=stored.sha256, file=stored)
    return f"/api/v1/kiosk/terminals/{t.code}/certificates/{c.number}/pdf"


def _register(w):
    site = w.site(GUDONG, kind="kiosk")
    n = next(_n)
    return Req("/api/v1/kiosk/terminals", method="post", json=True, data={
        "site_code": site.code, "code": f"MR{n}", "serial": f"MRS{n}", "model": "ZZ", "operator": "矩阵运维",
        "installed_on": "2021-01-01"})


def _tcode(w):
    return terminal(w)[0].code


ROUTES = [
    # The terminal's own routes (its device key; another terminal's key → 404).
    DeviceScoped("api:kiosk_heartbeat", device=terminal,
                 make=lambda w, t: Req(f"/api/v1/kiosk/terminals/{t.code}/heartbeat", method="post", json=True,
                                       data={"status": "normal"})),
    DeviceScoped("api:kiosk_config", device=terminal, make=lambda w, t: f"/api/v1/kiosk/terminals/{t.code}/config"),
    DeviceScoped("api:kiosk_usage_log", device=terminal, ok=(201,),
                 make=lambda w, t: Req(f"/api/v1/kiosk/terminals/{t.code}/usage", method="post", json=True,
                                       data=_today_uses(w, t))),
    # The matrix's person is in no registry: a refusal (422) proves the key got through to the source.
    DeviceScoped("api:kiosk_certificate_issue", device=terminal, ok=(422,), make=_issue),
    DeviceScoped("api:kiosk_certificate_pdf", device=terminal, make=_fresh_pdf),
    # The kiosk's screens: the pairing cookie (a device key of the terminal), the pairing page otherwise.
    DeviceScoped("kiosk:home", device=terminal, via="cookie", make=lambda w, t: "/kiosk/"),
    DeviceScoped("kiosk:item", device=terminal, via="cookie", make=lambda w, t: f"/kiosk/items/{item(w).code}/"),
    DeviceScoped("kiosk:identify", device=terminal, via="cookie", ok=(302,), make=lambda w, t: "/kiosk/identify/"),
    DeviceScoped("kiosk:done", device=terminal, via="cookie", ok=(302,), make=lambda w, t: "/kiosk/done/"),
    DeviceScoped("kiosk:certificate-pdf", device=terminal, via="cookie", ok=(404,), make=lambda w, t: "/kiosk/certificate.pdf"),
    DeviceScoped("kiosk:evaluate", device=terminal, via="cookie", make=lambda w, t: "/kiosk/evaluate/"),
    DeviceScoped("kiosk:end", device=terminal, via="cookie", ok=(302,), make=lambda w, t: Req("/kiosk/end/", method="post")),
    DeviceScoped("kiosk:demo-reader", device=terminal, via="cookie", ok=(404,), make=lambda w, t: "/kiosk/reader/demo/"),
    Public("kiosk:pair"),
    Public("kiosk:verify", make=lambda w: f"/kiosk/v/{certificate(w).number}/MATRIX22/"),
    Public("api:kiosk_verify", make=lambda w: f"/api/v1/kiosk/verify/{certificate(w).number}?code=MATRIX22"),
    Public("api:kiosk_verify_file", make=lambda w: Req(f"/api/v1/kiosk/verify/{certificate(w).number}", method="post",
                                                          json=True, data={"code": "MATRIX22", "sha256": "0" * 64})),

    # Staff: lists (each scoped inside; tested in tests/kiosks/) and the records of 鼓东.
    Staff("api:kiosk_terminal_list"),
    Staff("api:kiosk_offline"),
    Staff("api:kiosk_items"),
    Staff("api:kiosk_override_list"),
    Staff("api:kiosk_certificate_list"),
    Staff("api:kiosk_usage"),
    Staff("api:kiosk_availability"),
    Staff("kiosks:terminals"),
    Staff("kiosks:usage", ok=(302,)),
    Staff("kiosks:items"),
    Staff("kiosks:certificates"),
    Capability("kiosks:terminal-new", cap=Cap.KIOSK_MANAGE, allowed=("city", "district", "other")),
    Scoped("api:kiosk_terminal_register", role=CM, ok=(201,), make=_register),
    Scoped("api:kiosk_terminal_detail", make=lambda w: f"/api/v1/kiosk/terminals/{_tcode(w)}"),
    Scoped("api:kiosk_terminal_key", role=CM, make=lambda w: Req(f"/api/v1/kiosk/terminals/{_tcode(w)}/key", method="post")),
    Scoped("api:kiosk_terminal_pairing", role=CM,
           make=lambda w: Req(f"/api/v1/kiosk/terminals/{_tcode(w)}/pairing-code", method="post")),
    Scoped("api:kiosk_terminal_retire", role=CM,
           make=lambda w: Req(f"/api/v1/kiosk/terminals/{_tcode(w)}/retire", method="post", json=True,
                              data={"reason": "矩阵停用"})),
    Scoped("api:kiosk_maintenance_list", make=lambda w: f"/api/v1/kiosk/terminals/{_tcode(w)}/maintenance"),
    Scoped("api:kiosk_maintenance_record", role=CM, ok=(201,),
           make=lambda w: Req(f"/api/v1/kiosk/terminals/{_tcode(w)}/maintenance", method="post", json=True,
                              data={"kind": "inspection", "performed_on": "2024-01-02", "performed_by": "矩阵",
                                    "description": "巡检"})),
    Scoped("api:kiosk_override_set", role=CM,
           make=lambda w: Req(f"/api/v1/kiosk/items/{item(w, 'guide').code}/overrides", method="put", json=True,
                              data={"terminal_code": _tcode(w), "offered": False})),
    Scoped("api:kiosk_override_clear", role=CM, ok=(204,),
           make=lambda w: Req(f"/api/v1/kiosk/items/{item(w, 'guide').code}/overrides?terminal_code={override(w).code}",
                              method="delete")),
    Scoped("api:kiosk_certificate_detail", make=lambda w: f"/api/v1/kiosk/certificates/{certificate(w).number}"),
    Scoped("api:kiosk_certificate_revoke", role=CM,
           make=lambda w: Req(f"/api/v1/kiosk/certificates/{certificate(w).number}/revoke", method="post", json=True,
                              data={"reason": "矩阵撤销"})),
    Scoped("kiosks:terminal", make=lambda w: f"/kiosks/terminals/{_tcode(w)}/"),
    Scoped("kiosks:terminal-maintenance", role=CM, ok=(302,),
           make=lambda w: Req(f"/kiosks/terminals/{_tcode(w)}/maintenance/", method="post",
                              data={"kind": "inspection", "performed_on": "2024-01-02", "performed_by": "矩阵",
                                    "description": "巡检"})),
    Scoped("kiosks:terminal-pairing", role=CM, make=lambda w: Req(f"/kiosks/terminals/{_tcode(w)}/pairing/", method="post")),
    Scoped("kiosks:terminal-key", role=CM, make=lambda w: Req(f"/kiosks/terminals/{_tcode(w)}/key/", method="post")),
    Scoped("kiosks:area", make=lambda w: f"/kiosks/areas/{GUDONG}/"),
    Scoped("kiosks:area-xlsx", make=lambda w: f"/kiosks/areas/{GUDONG}/usage.xlsx"),
    Scoped("kiosks:site", make=lambda w: f"/kiosks/sites/{w.site(GUDONG, kind='kiosk').code}/"),
    Scoped("kiosks:certificate", make=lambda w: f"/kiosks/certificates/{certificate(w).number}/"),
    Scoped("kiosks:certificate-pdf", role=CM, make=lambda w: f"/kiosks/certificates/{certificate(w).number}/pdf"),
]

__all__ = ["ROUTES", "Exempt"]
