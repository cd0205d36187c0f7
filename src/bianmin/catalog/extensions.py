"""Sections that apps after the catalog add to the public guide pages.

Why a registry: a guide page shows what later apps know about the item (the enterprise policies
that it serves, for one), but the catalog comes before them in the spine and must not import
them. The later app registers a provider here in its AppConfig.ready(); the guide views ask the
registry, and each section brings its own template. The catalog knows nothing of what is shown,
and a section that fails never takes the guide down with it.

    from bianmin.catalog.extensions import GuideSection, register_guide_section

    def related_policies(standard_item, area):
        rows = ...  # area: where the guide's item is implemented (None on the shared guide)
        return GuideSection("policies/_guide_section.html", {"policies": rows}) if rows else None

    register_guide_section("policies", related_policies, order=10)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GuideSection:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Provider:
    name: str
    provide: Callable[[Any, Any], GuideSection | None]
    order: int
    namespaces: tuple[str, ...] = ()


_PROVIDERS: dict[str, _Provider] = {}


def register_guide_section(name: str, provide: Callable[[Any, Any], GuideSection | None], *,
                           order: int = 100, namespaces: tuple[str, ...] = ()) -> None:
    """Add (or replace, by name) a provider: ``provide(standard_item, area)`` returns a section or
    None; ``area`` is the area of the implemented item whose guide is shown, None for the shared
    guide of the standard item. ``namespaces``: the content versions (core/pagecache.py) the
    section is read from, so a cached guide page changes when they do. Idempotent, so that
    ready() may run twice."""
    _PROVIDERS[name] = _Provider(name=name, provide=provide, order=order, namespaces=tuple(namespaces))


def guide_namespaces() -> tuple[str, ...]:
    """The content versions the registered sections depend on (added to the guide pages' keys)."""
    return tuple(sorted({ns for p in _PROVIDERS.values() for ns in p.namespaces}))


def guide_sections(standard_item, area=None) -> list[GuideSection]:
    """The sections every registered app has for this standard item, in order. A provider that
    raises is logged and left out: a guide must open even when an extra does not."""
    out: list[GuideSection] = []
    for provider in sorted(_PROVIDERS.values(), key=lambda p: (p.order, p.name)):
        try:
            section = provider.provide(standard_item, area)
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception("guide section %s failed for %s", provider.name, getattr(standard_item, "code", "?"))
            continue
        if section is not None:
            out.append(section)
    return out
