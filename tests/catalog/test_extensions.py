"""Sections later apps add to the guide pages (catalog/extensions.py): shown in order, absent
when a provider has nothing, and a failing provider never takes the guide down."""

from bianmin.catalog import extensions
from bianmin.catalog.extensions import GuideSection, guide_sections, register_guide_section


def test_sections_in_order_and_a_failing_one_left_out(monkeypatch, caplog):
    monkeypatch.setattr(extensions, "_PROVIDERS", {})
    register_guide_section("b", lambda si, area: GuideSection("b.html", {"n": si, "area": area}), order=20)
    register_guide_section("a", lambda si, area: GuideSection("a.html"), order=10)
    register_guide_section("none", lambda si, area: None)
    register_guide_section("broken", lambda si, area: 1 / 0)
    assert [s.template for s in guide_sections("X")] == ["a.html", "b.html"]
    assert guide_sections("X", "鼓东")[1].context == {"n": "X", "area": "鼓东"}
    assert "guide section broken failed" in caplog.text
    register_guide_section("a", lambda si, area: GuideSection("a2.html"), order=10)  # replaced, by name
    assert [s.template for s in guide_sections("X")] == ["a2.html", "b.html"]
