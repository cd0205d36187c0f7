"""What the search index and the filters hold for a public policy version, made in one place.

Filters are tokens (`facet_tokens`): the same tokens go into the full-text index beside the
segmented words (so a search with filters is one boolean match on both engines, never cut short
by a candidate limit) and into `PolicyFacet` rows (so browsing without a query filters with
indexed lookups). A filter asks for a group of tokens (`filter_groups`): a policy passes when it
holds one token of every group.

Tokens are ASCII letters and digits (plus a tag's own characters), starting with "z" and a kind,
so they never collide with a segmented Chinese word:
    zst<state>         published / expired
    zcat<category>     政策类别
    zdep<id>           lead or co-department
    zsz<size>, zszall  企业规模 (all: no size restriction)
    zina<code>         a listed industry (section letter lower-cased, or division digits)
    zinin<section>     a listed division's section (so filtering by the section finds it)
    zinall             no industry restriction
    zara<code>         applies at exactly this area (so to everything below it)
    zarin<code>        applies somewhere at or below this area
    ztag<tag>          a tag (标签 or 资质要求)
    zfree              免申即享
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bianmin.core import search

from . import industries
from .models import Category, Policy, Size

INDEX = search.FtsIndex("policies_search")

_TAG_CLEAN = re.compile(r"[^\w]|_")


def tag_token(tag: str) -> str:
    return "ztag" + _TAG_CLEAN.sub("", search.normalize(tag))


def _area_chain(path: str) -> list[str]:
    return [c for c in path.split("/") if c]


def facet_tokens(policy: Policy, *, area_paths: Iterable[str], department_ids: Iterable[int]) -> list[str]:
    """The filter tokens of a public version. `area_paths` are the paths of the areas it applies
    to (its own area when none is listed); `department_ids` the lead and co-departments."""
    tokens = [f"zst{policy.state}", f"zcat{policy.category}"]
    tokens += [f"zdep{d}" for d in department_ids]
    tokens += [f"zsz{s}" for s in policy.sizes] if policy.sizes else ["zszall"]
    if policy.industries:
        for code in policy.industries:
            found = industries.get(code)
            if found is None:
                continue
            tokens.append(f"zina{found.code.lower()}")
            if not found.is_section:
                tokens.append(f"zinin{found.section.lower()}")
    else:
        tokens.append("zinall")
    for path in area_paths:
        chain = _area_chain(path)
        if chain:
            tokens.append(f"zara{chain[-1]}")
            tokens += [f"zarin{c}" for c in chain]
    tokens += [tag_token(t) for t in [*policy.tags, *policy.required_tags] if tag_token(t) != "ztag"]
    if policy.no_application:
        tokens.append("zfree")
    return list(dict.fromkeys(tokens))


@dataclass(frozen=True)
class Filters:
    """Public filters. Empty strings mean "no filter"."""

    category: str = ""
    department: int | None = None
    industry: str = ""
    size: str = ""
    area_path: str = ""  # the path of the chosen area
    tag: str = ""
    in_force: bool = False
    no_application: bool = False
    include_expired: bool = True
    extra: tuple[frozenset[str], ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not (self.category or self.department or self.industry or self.size or self.area_path or self.tag
                    or self.in_force or self.no_application or not self.include_expired or self.extra)


def filter_groups(f: Filters) -> list[frozenset[str]]:
    """The token groups a policy must hit (one token of each) to pass the filters."""
    groups: list[frozenset[str]] = []
    if f.in_force or not f.include_expired:
        groups.append(frozenset({"zstpublished"}))
    if f.category:
        groups.append(frozenset({f"zcat{f.category}"}))
    if f.department:
        groups.append(frozenset({f"zdep{f.department}"}))
    if f.size:
        groups.append(frozenset({f"zsz{f.size}", "zszall"}))
    if f.industry:
        found = industries.get(f.industry)
        if found is not None:
            if found.is_section:
                code = found.code.lower()
                groups.append(frozenset({f"zina{code}", f"zinin{code}", "zinall"}))
            else:
                groups.append(frozenset({f"zina{found.code}", f"zina{found.section.lower()}", "zinall"}))
    if f.area_path:
        chain = _area_chain(f.area_path)
        if chain:
            groups.append(frozenset({f"zarin{chain[-1]}", *(f"zara{c}" for c in chain[:-1])}))
    if f.tag:
        groups.append(frozenset({tag_token(f.tag)}))
    if f.no_application:
        groups.append(frozenset({"zfree"}))
    groups.extend(f.extra)
    return groups


def words_of(policy: Policy, *, department_names: Iterable[str]) -> str:
    """The segmented full text: title, aliases, document number, issuing body, departments,
    category, benefits, conditions, tags (names weigh more in ranking, which reads them apart)."""
    return search.doc_text(
        policy.title, " ".join(policy.alias_list), policy.document_number, policy.issuing_body,
        " ".join(department_names), str(Category(policy.category).label) if policy.category in Category.values else "",
        " ".join([*policy.tags, *policy.required_tags]), policy.benefits, policy.conditions,
    )


def index_row(policy: Policy, *, tokens: list[str], words: str) -> tuple[int, str, str]:
    """(id, doc, grams) for the index: the words (`words_of`) and the filter tokens; grams of the names."""
    return policy.pk, f"{words} {' '.join(tokens)}".strip(), search.grams_text(policy.title, *policy.alias_list)


SIZE_LABELS = {s.value: str(s.label) for s in Size}
