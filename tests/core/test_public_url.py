"""Links that leave the platform follow the address `bianmin up` serves on unless
BIANMIN_PUBLIC_BASE_URL says otherwise (issues 19.7, 21.9, 22.1)."""

from __future__ import annotations

import pytest

from bianmin import cli
from bianmin.core import public_url


def test_the_configured_public_base_url_wins_without_a_warning():
    base, warning = cli.public_base_for("0.0.0.0", 8131, {"BIANMIN_PUBLIC_BASE_URL": "https://bm.example.gov.cn/"})
    assert (base, warning) == ("https://bm.example.gov.cn", "")


def test_unset_on_loopback_the_links_follow_the_served_port_quietly():
    assert cli.public_base_for("127.0.0.1", 8131, {}) == ("http://127.0.0.1:8131", "")
    assert cli.public_base_for("localhost", 9000, {}) == ("http://localhost:9000", "")
    assert cli.public_base_for("::1", 8131, {}) == ("http://[::1]:8131", "")


def test_unset_beyond_loopback_the_links_follow_the_host_with_a_warning(monkeypatch):
    base, warning = cli.public_base_for("192.168.10.5", 8131, {})
    assert base == "http://192.168.10.5:8131"
    assert "BIANMIN_PUBLIC_BASE_URL" in warning and "http://192.168.10.5:8131" in warning
    monkeypatch.setattr(public_url, "_outward_address", lambda: "10.20.30.40")
    base, warning = cli.public_base_for("0.0.0.0", 8131, {})
    assert base == "http://10.20.30.40:8131" and warning  # a wildcard is no address a phone can open


@pytest.mark.django_db
@pytest.mark.parametrize(("host", "configured", "expected", "warns"), [
    ("127.0.0.1", None, "http://127.0.0.1:8132", False),
    ("127.0.0.1", "https://bm.example.gov.cn", "https://bm.example.gov.cn", False),
    ("10.9.8.7", None, "http://10.9.8.7:8132", True),
])
def test_up_hands_the_served_address_to_the_workers(monkeypatch, capsys, host, configured, expected, warns):
    import django.core.management

    monkeypatch.setattr(django.core.management, "call_command", lambda *a, **k: None)
    monkeypatch.setattr(cli.os, "execv", lambda path, args: None)
    for name in ("BIANMIN_UP_WORKER", "BIANMIN_WARM_SEARCH"):  # set by `up`: restored after the test
        monkeypatch.setenv(name, "unset")
    if configured:
        monkeypatch.setenv("BIANMIN_PUBLIC_BASE_URL", configured)
    else:
        monkeypatch.delenv("BIANMIN_PUBLIC_BASE_URL", raising=False)
    args = ["up", "--no-demo", "--port", "8132", "--host", host]
    assert cli.main(args) == 0
    assert cli.os.environ["BIANMIN_PUBLIC_BASE_URL"] == expected  # what gunicorn's workers read in settings
    out = capsys.readouterr()
    assert f"群众链接     {expected}/" in out.out
    assert ("未设置 BIANMIN_PUBLIC_BASE_URL" in out.err) == warns


def test_public_url_joins_the_base_and_a_path(settings):
    settings.BIANMIN_PUBLIC_BASE_URL = "http://10.0.0.2:8133/"
    assert public_url.public_url("/e/ABCD-EFGH") == "http://10.0.0.2:8133/e/ABCD-EFGH"
