"""The policy library as xlsx: at once when small, as a background export job (导出任务) when
large (the exporter below is registered in apps.ready). Rows are read a chunk at a time
(keyset pagination), each chunk's relations in a few queries."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch

from bianmin.core.capabilities import Cap
from bianmin.core.errors import Invalid
from bianmin.core.principal import Principal
from bianmin.core.scoping import scoped
from bianmin.exports.registry import Export

from .models import State
from .xlsx import EXPORT_HEADER, export_rows


def library_queryset(principal: Principal, *, state: str = ""):
    """The latest version of every policy in the principal's scope, oldest id first."""
    from .models import Policy

    if state and state not in State.values:
        raise Invalid("状态无效", field="state")
    newer = Policy.objects.filter(code=OuterRef("code"), version__gt=OuterRef("version"))
    qs = scoped(Policy.objects.filter(~Exists(newer)), principal, Cap.POLICY_EDIT)
    if state:
        qs = qs.filter(state=state)
    return qs.select_related("lead_department").order_by("pk")


def _chunked(qs, size: int = 500):
    """Chunks by primary key, each with its many-to-many relations prefetched."""
    from bianmin.catalog.models import Department, StandardItem
    from bianmin.regions.models import Area

    last = 0
    while True:
        chunk = list(qs.filter(pk__gt=last).prefetch_related(
            Prefetch("co_departments", queryset=Department.objects.only("id", "code")),
            Prefetch("areas", queryset=Area.objects.only("id", "code")),
            Prefetch("items", queryset=StandardItem.objects.only("id", "code")))[:size])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].pk


def library_rows(principal: Principal, *, state: str = ""):
    return export_rows(_chunked(library_queryset(principal, state=state)))


def policy_library_export(principal: Principal, params: dict) -> Export:
    state = str(params.get("state") or "")
    qs = library_queryset(principal, state=state)
    return Export(title="惠企政策库", header=EXPORT_HEADER, rows=export_rows(_chunked(qs)),
                  count=lambda: qs.order_by().count())
