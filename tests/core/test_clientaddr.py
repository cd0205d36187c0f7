"""The client's address behind a configured reverse proxy (issue 22.8)."""

from __future__ import annotations

from bianmin.core.clientaddr import client_address


def test_without_trusted_proxies_the_connecting_address_is_the_client(settings):
    settings.BIANMIN_TRUSTED_PROXIES = ""
    meta = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    assert client_address(meta) == "203.0.113.9"  # a header anyone can write is ignored


def test_a_trusted_proxy_names_the_client_read_from_the_right(settings):
    settings.BIANMIN_TRUSTED_PROXIES = "10.0.0.5, 10.1.0.0/24"
    meta = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9, 10.1.0.7"}
    # 10.1.0.7 is a trusted hop; 203.0.113.9 connected to it; 6.6.6.6 is what that client claimed.
    assert client_address(meta) == "203.0.113.9"


def test_an_untrusted_sender_cannot_choose_its_address(settings):
    settings.BIANMIN_TRUSTED_PROXIES = "10.0.0.5"
    assert client_address({"REMOTE_ADDR": "198.51.100.1", "HTTP_X_FORWARDED_FOR": "10.0.0.5"}) == "198.51.100.1"


def test_malformed_or_missing_entries(settings):
    settings.BIANMIN_TRUSTED_PROXIES = "10.0.0.5"
    assert client_address({"REMOTE_ADDR": "10.0.0.5"}) == "10.0.0.5"
    assert client_address({"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "junk, 203.0.113.9"}) == "203.0.113.9"
    assert client_address({"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "203.0.113.9, junk"}) == "10.0.0.5"
    assert client_address({"REMOTE_ADDR": ""}) is None
    settings.BIANMIN_TRUSTED_PROXIES = "::1"
    assert client_address({"REMOTE_ADDR": "::1", "HTTP_X_FORWARDED_FOR": "2001:db8::7"}) == "2001:db8::7"
