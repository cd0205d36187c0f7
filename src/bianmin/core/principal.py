"""Who is acting: a logged-in staff user or an API key. Both reduce to a set of (area path,
capabilities) grants, which the scope rule reads. Citizens are anonymous principals."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Grant:
    path: str
    capabilities: frozenset[str]


@dataclass
class Principal:
    label: str
    grants: list[Grant] = field(default_factory=list)
    user: object | None = None  # accounts.User when a person acts
    api_key: object | None = None  # accounts.ApiKey when a system or device acts
    ip: str | None = None
    # What a person reads where this principal is named (a timeline, 操作人, a PDF): the person's
    # display name, or the key's name. ``label`` stays the log-in or key identifier the audit
    # trail keeps (issue 22.9: log-in names were shown where a person's name belongs).
    display: str = ""

    @property
    def name(self) -> str:
        return self.display or self.label

    def area_paths_for(self, capability: str) -> list[str]:
        paths = sorted({g.path for g in self.grants if capability in g.capabilities})
        # Drop paths already covered by a shorter one, so the SQL stays small.
        kept: list[str] = []
        for p in paths:
            if not any(p.startswith(k) for k in kept):
                kept.append(p)
        return kept

    def sees_area(self, area) -> bool:
        return any(area.path.startswith(g.path) for g in self.grants)

    def can(self, capability: str, area) -> bool:
        return any(area.path.startswith(g.path) and capability in g.capabilities for g in self.grants)

    @property
    def is_anonymous(self) -> bool:
        return self.user is None and self.api_key is None


ANONYMOUS = Principal(label="anonymous", display="群众")


def actor_name(actor: Principal | None) -> str:
    """The name shown for whoever acted: the person's or key's name, "系统" for the platform's
    own jobs (no principal)."""
    return actor.name if actor is not None else "系统"


# How a request becomes a Principal is accounts' business (roles, keys), and accounts sits above
# regions in the spine. Apps below it (regions' admin) reach the same function through this hook,
# which accounts fills when it is ready (accounts/apps.py), as Django's auth does with its backends.
_request_principal = None


def install_request_principal(resolver) -> None:
    global _request_principal
    _request_principal = resolver


def request_principal(request) -> Principal:
    """The request's principal, for apps that sit below accounts; others call
    ``accounts.principals.principal_of`` directly (the same function)."""
    if _request_principal is None:
        raise RuntimeError("bianmin.accounts is not installed: no principal for the request")
    return _request_principal(request)
