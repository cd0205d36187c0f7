"""Chinese search, shared by every app that needs it (catalog guides, appeal keywords, policies).

How it works, and why (see DESIGN.md's measured notes):

* Segmentation: jieba, with a user dictionary made of service names (every app registers its names
  with `add_words`) and of the synonym table below, so that 无房证明, 临时身份证明, 最低生活保障 stay
  whole words. Documents are indexed as jieba's `cut_for_search` output (the whole word *and* its
  dictionary sub-words), joined by spaces.
* The index: one table per use, created by a migration operation from `FtsIndex.migration_operation()`:
  - SQLite: an FTS5 virtual table with the default unicode61 tokenizer over the space-joined tokens
    (the trigram tokenizer cannot find 2-character words such as 证明).
  - PostgreSQL: a table with two `tsvector` columns built with `array_to_tsvector` from the very same
    tokens (no parser runs, so no locale can split Chinese differently) and GIN indexes.
* The same query gives the same results on both engines: matching is boolean (every term group must
  match; each group is a term OR its synonyms), candidates come back in id order, and the ranking is
  computed here in Python from the candidates (exact name, then alias, then how many query terms hit
  the name / aliases / full text, then the shorter name, then the code). Engine scores (bm25,
  ts_rank) are never used, since they differ between the engines.
* Typo tolerance: a second column holds the character bigrams of names and aliases; when nothing
  matches, candidates sharing a bigram with the query are ranked by Dice similarity. This replaces
  pg_trgm on purpose: trigrams of 4-character Chinese names lose almost everything to one wrong
  character, and a PostgreSQL-only fuzzy match would give other results than SQLite.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, migrations

# --- vocabulary -----------------------------------------------------------------------------

# Groups of names that mean the same thing to a citizen; the first is the usual official name.
# Written from how people ask at windows and on the 12345 line.
SYNONYMS: list[tuple[str, ...]] = [
    ("无住房证明", "无房证明", "无房产证明", "住房情况证明", "没有房子证明"),
    ("生育登记", "准生证", "生育服务证", "生育证", "准生"),
    ("最低生活保障", "低保"),
    ("残疾人证", "残疾证", "残联证"),
    ("社会保险缴费证明", "社保缴交证明", "社保证明", "社保缴费证明", "参保证明", "社保缴费记录"),
    ("临时身份证明", "临时身份证", "户籍证明", "身份证明"),
    ("居民身份证", "身份证", "二代证"),
    ("特困人员救助供养", "五保", "五保户", "特困供养"),
    ("临时救助", "急难救助"),
    ("城乡居民基本养老保险", "新农保", "城乡养老保险", "居民养老保险"),
    ("养老保险待遇", "退休金", "养老金"),
    ("城乡居民基本医疗保险", "医保", "新农合", "居民医保", "农村合作医疗"),
    ("医疗保险", "医保"),
    ("高龄津贴", "高龄补贴", "老人补贴", "长寿补贴"),
    ("结婚登记", "领结婚证", "结婚证", "扯证"),
    ("独生子女父母光荣证", "独生子女证", "光荣证"),
    ("农村宅基地", "宅基地", "建房审批", "农村建房", "盖房子"),
    ("农村村民住宅建设", "农村建房", "自建房", "盖房子"),
    ("林木采伐许可", "砍树", "采伐证", "伐木"),
    ("法律援助", "请律师", "免费律师", "打官司"),
    ("人民调解", "调解", "纠纷"),
    ("邻里纠纷", "邻居吵架", "邻居纠纷", "吵架", "矛盾纠纷"),
    ("个体工商户", "个体户", "营业执照", "开店"),
    ("就业失业登记", "失业证", "失业登记", "就业登记", "就业创业证"),
    ("失业保险金", "失业金", "失业补助"),
    ("困难残疾人生活补贴", "残疾人补贴", "残补"),
    ("重度残疾人护理补贴", "护理补贴"),
    ("户口迁移", "迁户口", "户口迁出", "迁户"),
    ("出生登记", "报户口", "新生儿落户", "上户口"),
    ("居住证", "暂住证"),
    ("渔业船舶", "渔船"),
    ("捕捞许可", "捕鱼证", "捕捞证"),
    ("动物防疫", "防疫"),
    ("农业机械", "农机"),
    ("优抚", "退役军人", "军属"),
    ("殡葬", "丧葬", "火化"),
    ("丧葬补助金", "丧葬费", "抚恤金"),
    ("计划生育", "计生"),
    ("不动产登记", "房产证", "土地证"),
    ("社会保障卡", "社保卡"),
]

# Words that carry no meaning for finding an item ("我想问一下怎么办理…").
STOPWORDS = frozenset(
    "我 我们 你 您 想 要 想要 需要 怎么 怎样 怎么样 如何 哪里 哪儿 在哪 在哪里 去哪 去哪里 哪个 什么 啥 办 办理 申请 "
    "手续 流程 材料 需要 的 了 吗 呢 吧 啊 一个 一下 个 给 帮 帮忙 请问 问 问下 可以 能 能不能 可不可以 去 开 开具 "
    "拿 领 领取 多久 几天 时间 哪些 有 有没有 是 和 与 及 或 在 到 为 把 被 对 这 那 还 也 都 就 该 应该 谁 "
    "怎么办 咋 咋办 弄 搞 做 找 跑 地方 部门 窗口 一张 张 份 本 家里 家人 自己 孩子 老人".split()
)

_TOKEN_RE = re.compile(r"[^\W_]+")


@functools.lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Full-width to half-width, lower case, trimmed (NFKC folds ＡＢＣ１２３ and full-width spaces).
    Cached: ranking normalises the same item names query after query."""
    return unicodedata.normalize("NFKC", text or "").strip().lower()


# --- segmentation ---------------------------------------------------------------------------

_lock = threading.Lock()
_tokenizer = None
_known_words: set[str] = set()
_synonym_index: dict[str, frozenset[str]] = {}


# Groups added by apps at start-up (`add_synonyms`): each app knows its own colloquial names
# (policies: 高企, 稳岗返还…) and keeps them beside its data instead of in this list.
_extra_synonyms: list[tuple[str, ...]] = []


def _build_synonym_index() -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = {}
    for group in [*SYNONYMS, *_extra_synonyms]:
        members = {normalize(w) for w in group}
        for w in members:
            index.setdefault(w, set()).update(members)
    return {k: frozenset(v) for k, v in index.items()}


def _get_tokenizer():
    global _tokenizer, _synonym_index
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                tk.initialize()
                _synonym_index = _build_synonym_index()
                for word in _synonym_index:
                    tk.add_word(word, freq=50000)
                for word in _known_words:
                    tk.add_word(word, freq=50000)
                _tokenizer = tk
    return _tokenizer


def add_words(words: Iterable[str]) -> None:
    """Teach the segmenter service names (item names, aliases, policy titles) so they stay whole."""
    new = {normalize(w) for w in words if w and len(normalize(w)) >= 2} - _known_words
    if not new:
        return
    with _lock:
        _known_words.update(new)
        if _tokenizer is not None:
            for word in new:
                _tokenizer.add_word(word, freq=50000)


def add_synonyms(groups: Iterable[Sequence[str]]) -> None:
    """Add groups of names that mean the same thing (the first is the official name). Idempotent;
    an app calls it from its AppConfig.ready(), before the first query is cut."""
    global _synonym_index
    new = [tuple(g) for g in groups if len(g) >= 2 and tuple(g) not in _extra_synonyms]
    if not new:
        return
    with _lock:
        _extra_synonyms.extend(new)
        if _tokenizer is not None:
            _synonym_index = _build_synonym_index()
            for group in new:
                for word in group:
                    _tokenizer.add_word(normalize(word), freq=50000)


def _clean(tokens: Iterable[str]) -> list[str]:
    out: list[str] = []
    for t in tokens:
        for part in _TOKEN_RE.findall(normalize(t)):
            out.append(part)
    return out


def segment(text: str) -> list[str]:
    """Tokens for indexing: jieba `cut_for_search` (words and their dictionary sub-words)."""
    if not text:
        return []
    return _clean(_get_tokenizer().cut_for_search(normalize(text)))


def cut(text: str) -> list[str]:
    """Tokens of a query or a keyword text: jieba's precise mode, punctuation dropped."""
    if not text:
        return []
    return _clean(_get_tokenizer().cut(normalize(text)))


_extractor = None


def keywords(text: str, *, limit: int = 8) -> list[str]:
    """The most telling words of a text (for appeals: routing and similar-case lookups), by
    jieba's TF-IDF over the same segmenter (so service names count as one word)."""
    global _extractor
    if _extractor is None:
        import jieba.analyse

        extractor = jieba.analyse.TFIDF()  # reads the IDF table once per process
        extractor.tokenizer = _get_tokenizer()
        _extractor = extractor
    words = [w for w in _extractor.extract_tags(normalize(text), topK=limit * 2) if w not in STOPWORDS]
    return words[:limit]


def doc_text(*texts: str) -> str:
    """The indexed form of a document: unique tokens in order, joined by spaces."""
    seen: dict[str, None] = {}
    for text in texts:
        for tok in segment(text):
            seen.setdefault(tok, None)
    return " ".join(seen)


def bigrams(text: str) -> list[str]:
    """Character bigrams of the word characters of a text (a 1-character word is its own gram)."""
    out: dict[str, None] = {}
    for run in _TOKEN_RE.findall(normalize(text)):
        if len(run) == 1:
            out.setdefault(run, None)
        for i in range(len(run) - 1):
            out.setdefault(run[i:i + 2], None)
    return list(out)


def grams_text(*texts: str) -> str:
    seen: dict[str, None] = {}
    for text in texts:
        for g in bigrams(text):
            seen.setdefault(g, None)
    return " ".join(seen)


def synonyms_of(term: str) -> frozenset[str]:
    _get_tokenizer()
    term = normalize(term)
    return _synonym_index.get(term, frozenset({term}))


def _meaningful(tokens: list[str]) -> list[str]:
    """Drop filler: stopwords, words made only of stopword characters (想开, 要办), and single
    characters when longer words are present (砍树要办什么证 → 砍树)."""
    kept = [t for t in tokens if t not in STOPWORDS and not all(ch in STOPWORDS for ch in t)]
    if any(len(t) > 1 for t in kept):
        kept = [t for t in kept if len(t) > 1 or t.isdigit()]
    return kept


@dataclass(frozen=True)
class Query:
    """A parsed query: the phrases that count as an exact name, and the term groups to match."""

    text: str
    phrases: frozenset[str]
    groups: tuple[frozenset[str], ...]
    tokens: tuple[str, ...] = ()


def parse_query(q: str) -> Query:
    text = normalize(q)
    tokens = _meaningful(cut(text))
    core = "".join(tokens)
    phrases = set(synonyms_of(text)) | set(synonyms_of(core)) if text else set()
    phrases.discard("")
    groups: list[frozenset[str]] = []
    if core and core in _synonym_index:
        # The whole query is a known name ("准生证"): one group of all its names.
        groups.append(synonyms_of(core))
    else:
        for tok in tokens:
            group = synonyms_of(tok)
            if group not in groups:
                groups.append(group)
    return Query(text=text, phrases=frozenset(phrases), groups=tuple(groups), tokens=tuple(dict.fromkeys(tokens)))


# --- ranking --------------------------------------------------------------------------------

class TokenText:
    """The indexed tokens of a document as its space-joined text: membership by substring, which
    is cheaper than building a set for each of hundreds of candidates."""

    __slots__ = ("_padded",)

    def __init__(self, text: str):
        self._padded = f" {text} "

    def __contains__(self, token: str) -> bool:
        return f" {token} " in self._padded

    def __and__(self, terms):
        return {t for t in terms if t in self}


@dataclass
class Candidate:
    id: int
    code: str
    name: str
    aliases: Sequence[str]
    text_tokens: frozenset[str] | TokenText


def rank(query: Query, candidates: Iterable[Candidate]) -> list[Candidate]:
    """Order candidates the same way on every engine: exact name, exact alias, then how many term
    groups hit the name, how many of the query's own words (before synonyms) appear in the name or
    an alias, how many groups hit the aliases and the full text, then the shorter name, the code."""

    phrases, groups, tokens = query.phrases, [tuple(g) for g in query.groups], query.tokens

    def score(c: Candidate):
        name = normalize(c.name)
        aliases = [normalize(a) for a in c.aliases]
        exact_name = name in phrases
        exact_alias = any(a in phrases for a in aliases)
        in_name = sum(1 for g in groups if any(m in name for m in g))
        in_alias = sum(1 for g in groups if any(m in a for a in aliases for m in g)) if aliases else 0
        in_text = sum(1 for g in groups if any(m in c.text_tokens for m in g))
        literal = sum(1 for t in tokens if t in name or any(t in a for a in aliases))
        return (-exact_name, -exact_alias, -in_name, -literal, -in_alias, -in_text, len(name), c.code)

    return sorted(candidates, key=score)


def dice(a: Iterable[str], b: Iterable[str]) -> float:
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return 2 * len(sa & sb) / (len(sa) + len(sb))


def query_grams(query: Query) -> list[str]:
    """The character bigrams of a query's meaningful words (for the typo-tolerant fallback)."""
    return bigrams("".join(_meaningful(cut(query.text))) or query.text)


def fuzzy_rank(query: Query, candidates: Iterable[Candidate], *, threshold: float = 0.45) -> list[Candidate]:
    """The typo-tolerant fallback: bigram similarity of the query with the name or an alias."""
    qgrams = query_grams(query)
    scored = []
    for c in candidates:
        best = max([dice(qgrams, bigrams(c.name))] + [dice(qgrams, bigrams(a)) for a in c.aliases])
        if best >= threshold:
            scored.append((-best, len(c.name), c.code, c))
    scored.sort(key=lambda t: t[:3])
    return [t[3] for t in scored]


# --- the engine-specific index --------------------------------------------------------------

def _is_sqlite(conn=None) -> bool:
    return (conn or connection).vendor == "sqlite"


def _fts5_term(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _ts_term(term: str) -> str:
    # Tokens only ever hold word characters (see _clean), so no quote can reach the literal.
    return "'" + term.replace("'", "").replace("\\", "") + "'"


class FtsIndex:
    """One full-text index table: (id, doc, grams). `doc` holds segmented text, `grams` the
    character bigrams of names (typo fallback). The id is the indexed row's primary key."""

    def __init__(self, table: str):
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
            raise ValueError("bad table name")
        self.table = table

    # migrations
    def _create(self, apps, schema_editor):
        conn = schema_editor.connection
        with conn.cursor() as cur:
            if _is_sqlite(conn):
                cur.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {self.table} USING fts5(doc, grams)")
            else:
                cur.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (id bigint PRIMARY KEY, "
                            f"doc tsvector NOT NULL, grams tsvector NOT NULL)")
                cur.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_doc_gin ON {self.table} USING gin (doc)")
                cur.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_grams_gin ON {self.table} USING gin (grams)")

    def _drop(self, apps, schema_editor):
        with schema_editor.connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {self.table}")

    def migration_operation(self) -> migrations.RunPython:
        return migrations.RunPython(self._create, self._drop)

    # writes (call inside the writing service's transaction)
    def upsert(self, rows: Iterable[tuple[int, str, str]]) -> None:
        rows = list(rows)
        if not rows:
            return
        with connection.cursor() as cur:
            if _is_sqlite():
                ids = [(r[0],) for r in rows]
                cur.executemany(f"DELETE FROM {self.table} WHERE rowid = %s", ids)
                cur.executemany(f"INSERT INTO {self.table} (rowid, doc, grams) VALUES (%s, %s, %s)", rows)
            else:
                cur.executemany(
                    f"INSERT INTO {self.table} (id, doc, grams) VALUES "
                    f"(%s, array_to_tsvector(%s::text[]), array_to_tsvector(%s::text[])) "
                    f"ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, grams = EXCLUDED.grams",
                    [(i, [t for t in d.split() if t], [t for t in g.split() if t]) for i, d, g in rows],
                )

    def delete(self, ids: Iterable[int]) -> None:
        ids = [(i,) for i in ids]
        if not ids:
            return
        key = "rowid" if _is_sqlite() else "id"
        with connection.cursor() as cur:
            cur.executemany(f"DELETE FROM {self.table} WHERE {key} = %s", ids)

    def clear(self) -> None:
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {self.table}")

    # reads
    def match(self, groups: Sequence[Iterable[str]], *, column: str = "doc", require_all: bool = True,
              limit: int = 1000) -> list[int]:
        """Ids of rows whose `column` holds, for every group (or for any group, when
        require_all=False), at least one of its terms; in id order, at most `limit`."""
        groups = [sorted({t for t in g if t}) for g in groups]
        groups = [g for g in groups if g]
        if not groups or column not in ("doc", "grams"):
            return []
        with connection.cursor() as cur:
            if _is_sqlite():
                joiner = " AND " if require_all else " OR "
                expr = joiner.join("(" + " OR ".join(_fts5_term(t) for t in g) + ")" for g in groups)
                cur.execute(
                    f"SELECT rowid FROM {self.table} WHERE {self.table} MATCH %s ORDER BY rowid LIMIT %s",
                    ["{" + column + "} : (" + expr + ")", limit],
                )
            else:
                joiner = " & " if require_all else " | "
                expr = joiner.join("(" + " | ".join(_ts_term(t) for t in g) + ")" for g in groups)
                cur.execute(
                    f"SELECT id FROM {self.table} WHERE {column} @@ %s::tsquery ORDER BY id LIMIT %s",
                    [expr, limit],
                )
            return [row[0] for row in cur.fetchall()]
