"""The staff home's list of workbenches. Each app registers its entries once, usually in its
AppConfig.ready():

    from bianmin.accounts.menu import register
    from bianmin.core.capabilities import Cap
    register("办件受理", "cases:intake", Cap.CASE_HANDLE, group="办件", order=10)

An entry shows when the user holds `capability` at some area (None: every logged-in user;
"staff": users flagged is_staff, i.e. the Django admin). Entries whose URL name does not
resolve are skipped, so registering before the page exists breaks nothing."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from bianmin.core.principal import Principal

STAFF_ONLY = "staff"


@dataclass(frozen=True)
class MenuEntry:
    label: str
    url_name: str
    capability: str | None = None
    group: str = "常用"
    order: int = 100


_ENTRIES: dict[str, MenuEntry] = {}


def register(label: str, url_name: str, capability: str | None = None, *, group: str = "常用", order: int = 100) -> None:
    """Add (or replace, by URL name) an entry; idempotent so that ready() may run twice."""
    _ENTRIES[url_name] = MenuEntry(label=label, url_name=url_name, capability=capability, group=group, order=order)


def entries() -> list[MenuEntry]:
    return sorted(_ENTRIES.values(), key=lambda e: (e.order, e.label))


def menu_for(principal: Principal, user=None) -> list[tuple[str, list[dict]]]:
    """[(group, [{"label", "url"}…])…] for the entries this principal may use."""
    groups: dict[str, list[dict]] = {}
    for entry in entries():
        if entry.capability == STAFF_ONLY:
            if not getattr(user, "is_staff", False):
                continue
        elif entry.capability is not None and not principal.area_paths_for(entry.capability):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        groups.setdefault(entry.group, []).append({"label": entry.label, "url": url})
    return list(groups.items())
