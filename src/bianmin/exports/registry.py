"""The exporters other apps offer, by kind. An app registers its exporters once, in its
AppConfig.ready():

    from bianmin.exports.registry import Export, register
    register("followups.followups", "回访台账", followup_ledger_export)

``prepare(principal, params)`` checks the params (raising ``Invalid`` with a Chinese message),
applies the principal's scope (its selectors do) and returns an ``Export``: the title, the header
and a lazy row iterator, and optionally a cheap row count for the progress bar. It runs twice:
when the job is created (to refuse bad params at once) and in the worker, with the principal
rebuilt from the user at that moment — a role revoked meanwhile exports nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bianmin.core.capabilities import Cap
from bianmin.core.errors import Invalid
from bianmin.core.principal import Principal


@dataclass(frozen=True)
class Export:
    title: str
    header: Sequence[str]
    rows: Iterable[Sequence]
    count: Callable[[], int] | None = None


@dataclass(frozen=True)
class Exporter:
    kind: str
    label: str
    prepare: Callable[[Principal, dict], Export]
    capability: str = Cap.VIEW  # held somewhere, or the run fails with a reason


_EXPORTERS: dict[str, Exporter] = {}


def register(kind: str, label: str, prepare: Callable[[Principal, dict], Export], *, capability: str = Cap.VIEW) -> None:
    """Add (or replace, by kind) an exporter; idempotent so that ready() may run twice."""
    _EXPORTERS[kind] = Exporter(kind=kind, label=label, prepare=prepare, capability=capability)


def get(kind: str) -> Exporter:
    try:
        return _EXPORTERS[kind]
    except KeyError:
        raise Invalid("未知的导出类型", field="kind") from None
