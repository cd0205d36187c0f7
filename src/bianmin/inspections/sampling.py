"""The reproducible draw of a cycle's online check (线上抽查).

Every candidate gets a rank from SHA-256 of (seed, kind, identity) and the k lowest ranks are
drawn: sites by their code within each district, then finished cases by their id within each
drawn site. The rank of a candidate does not depend on the others, so the draw does not depend on
the order rows come back in, on the database engine, or on how many other rows exist.

What may be drawn is fixed by the cycle's ``rule`` before anything is read: cases finished within
a window that ends at the cycle's start (``completed_from`` ≤ completed_at < ``completed_before``)
and no newer than the last case id at the moment of drawing (``case_id_max``; sites likewise,
``site_id_max``). Cases written
while the draw runs — or any time later — are outside both bounds, so drawing again from the
same seed and rule gives the same sample (``verify``). ``digest`` sums the sample up in one
value kept on the cycle."""

from __future__ import annotations

import hashlib
import heapq
from dataclasses import dataclass, field
from datetime import datetime

ALGORITHM = "sha256-rank/1"


def rank(seed: int, kind: str, ident) -> bytes:
    return hashlib.sha256(f"{seed}:{kind}:{ident}".encode()).digest()


def pick(idents, *, seed: int, kind: str, k: int) -> list:
    """The ``k`` candidates of lowest rank, lowest first."""
    if k <= 0:
        return []
    return heapq.nsmallest(k, idents, key=lambda i: rank(seed, kind, i))


@dataclass
class DrawnSite:
    district_code: str
    site_id: int
    site_code: str
    case_ids: list[int] = field(default_factory=list)


def draw(*, seed: int, rule: dict) -> list[DrawnSite]:
    """The sample the rule and seed give, from the rows as they are (read only)."""
    from bianmin.cases.models import Case
    from bianmin.regions.models import Area, ServiceSite

    before = datetime.fromisoformat(rule["completed_before"])
    since = datetime.fromisoformat(rule["completed_from"])
    organiser_path = rule["organiser_path"]
    drawn: list[DrawnSite] = []
    for district in Area.objects.filter(code__in=rule["districts"]).order_by("code"):
        candidates = dict(
            ServiceSite.objects.filter(active=True, kind__in=rule["site_kinds"], area__path__startswith=district.path)
            .filter(pk__lte=int(rule["site_id_max"]))
            .exclude(area__path=organiser_path)  # a site at the organiser's own level is not inspected by it
            .values_list("code", "pk"))
        for code in pick(candidates, seed=seed, kind="site", k=int(rule["sites_per_district"])):
            drawn.append(DrawnSite(district_code=district.code, site_id=candidates[code], site_code=code))
    k = int(rule["cases_per_site"])
    for site in drawn:
        # One indexed read per site ((site, state) leads the case queue index); the window and the
        # id bound are what keep the draw fixed while cases are being written.
        ids = (Case.objects.filter(site_id=site.site_id, state="completed", completed_at__gte=since,
                                   completed_at__lt=before, pk__lte=int(rule["case_id_max"]))
               .order_by().values_list("pk", flat=True))
        site.case_ids = pick(ids.iterator(chunk_size=5000), seed=seed, kind="case", k=k)
    return drawn


def digest(sample: list[DrawnSite]) -> str:
    h = hashlib.sha256()
    for s in sample:
        h.update(f"{s.district_code}|{s.site_code}|{','.join(map(str, s.case_ids))}\n".encode())
    return h.hexdigest()
