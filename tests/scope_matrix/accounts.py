"""Routes of accounts (log-in, password, audit log, whoami API)."""

from bianmin.accounts.roles import Cap
from scope_matrix import GUDONG, Capability, Exempt, KeyScoped, Public, Scoped, Staff

ROUTES = [
    Public("accounts:login"),
    Exempt("accounts:logout", reason="POST-only log-out of one's own session; tests/accounts/test_login.py"),
    Staff("accounts:password_change"),
    Capability("accounts:audit", cap=Cap.AUDIT_VIEW),
    Capability("accounts:audit_export_csv", cap=Cap.AUDIT_VIEW),
    Capability("accounts:audit_export_xlsx", cap=Cap.AUDIT_VIEW),
    Staff("api:whoami"),
    Scoped("api:whoami_area", make=lambda w: f"/api/v1/whoami/areas/{GUDONG}"),
    Scoped("api:whoami_site", make=lambda w: f"/api/v1/whoami/sites/{w.site(GUDONG).code}"),
    KeyScoped("api:whoami_area", make=lambda w: f"/api/v1/whoami/areas/{GUDONG}", scopes=["cases.intake"]),
    KeyScoped("api:whoami_site", make=lambda w: f"/api/v1/whoami/sites/{w.site(GUDONG).code}",
              scopes=["evaluations.device"]),
]
