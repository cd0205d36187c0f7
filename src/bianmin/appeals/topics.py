"""What appeals are about: the two-level content classification (models.TopicClass, data in
data/topics.csv) and the rule classifier that puts an incoming appeal in a level-2 class.

The rule: each level-2 class has keywords with weights; an appeal scores a class with the weights
of the keywords found in it (twice in the title, which names the matter); the best score wins,
ties go to the smaller code; nothing found → the catch-all class (the level-2 class without
keywords, 9901 其他). Staff correct a wrong class on the appeal (services.appeal_topic_set); a
correction is kept when the 12345 platform sends the order again. Substring matching, not word
segmentation: the keywords are phrases people write (跑了三趟, 需要什么材料), and an area's name
can never be a topic (the jieba word counts this replaced ranked 鼓楼 and 准备 as topics)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "topics.csv"
TITLE_WEIGHT = 2
MIN_SCORE = 2


def parse_keywords(text: str) -> list[list]:
    """"排队*4、等候" → [["排队", 4], ["等候", 2]] (a keyword's weight defaults to its length)."""
    out = []
    for part in (text or "").replace(",", "、").replace("，", "、").split("、"):
        part = part.strip()
        if not part:
            continue
        word, _, weight = part.partition("*")
        word = word.strip()
        if word:
            out.append([word, int(weight) if weight.strip().isdigit() else len(word)])
    return out


def read_topic_rows(data: str) -> list[dict]:
    """The rows of a classification file (comment lines start with #): code, name, parent, keywords."""
    lines = [line for line in data.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    rows = []
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        rows.append({"code": (row.get("code") or "").strip(), "name": (row.get("name") or "").strip(),
                     "parent": (row.get("parent") or "").strip(), "keywords": parse_keywords(row.get("keywords") or "")})
    return rows


def default_rows() -> list[dict]:
    return read_topic_rows(DATA_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Match:
    class_id: int | None
    code: str
    score: int
    words: tuple[str, ...]


class Classifier:
    """The rules of the active level-2 classes, read once (build one per batch; a registration
    builds its own: about forty small rows)."""

    def __init__(self, classes):
        self.rules = []
        self.fallback = None
        for c in sorted(classes, key=lambda c: c.code):
            if c.parent_id is None or not c.active:
                continue
            words = tuple((w, int(n)) for w, n in (c.keywords or []))
            if words:
                self.rules.append((c.pk, c.code, words))
            elif self.fallback is None:
                self.fallback = (c.pk, c.code)

    @classmethod
    def from_database(cls) -> Classifier:
        from .models import TopicClass

        return cls(TopicClass.objects.filter(active=True).only("id", "code", "parent_id", "keywords", "active"))

    def classify(self, title: str, content: str) -> Match:
        title, content = title or "", content or ""
        best = None
        for pk, code, words in self.rules:
            score, found = 0, []
            for word, weight in words:
                if word in title:
                    score += weight * TITLE_WEIGHT
                    found.append(word)
                elif word in content:
                    score += weight
                    found.append(word)
            if score >= MIN_SCORE and (best is None or score > best.score):
                best = Match(pk, code, score, tuple(found))
        if best is not None:
            return best
        if self.fallback is not None:
            return Match(self.fallback[0], self.fallback[1], 0, ())
        return Match(None, "", 0, ())


def classify(title: str, content: str) -> Match:
    return Classifier.from_database().classify(title, content)
