"""The shared Chinese search mechanism: segmentation, synonyms, query parsing, ranking, the index."""

import pytest

from bianmin.core import search


def test_service_names_stay_whole_once_registered():
    search.add_words(["临时身份证明开具"])
    assert "临时身份证明" in search.segment("临时身份证明开具") or "临时身份证明开具" in search.segment("临时身份证明开具")
    assert "无房证明" in search.cut("我想开个无房证明")


def test_colloquial_names_expand_to_the_official_ones():
    for colloquial, official in [("无房证明", "无住房证明"), ("准生证", "生育登记"), ("低保", "最低生活保障"),
                                 ("残疾证", "残疾人证")]:
        q = search.parse_query(colloquial)
        assert official in q.phrases
        assert any(official in g for g in q.groups)


def test_filler_words_are_dropped_from_queries():
    q = search.parse_query("请问我想开个无房证明要怎么办理？")
    assert q.tokens == ("无房证明",)
    assert len(q.groups) == 1


def test_single_characters_are_dropped_when_words_remain():
    q = search.parse_query("砍树要办什么证")
    assert "证" not in q.tokens and "砍树" in q.tokens


def test_full_width_input_is_normalised():
    assert search.normalize("ＡＢＣ１２３　") == "abc123"


def test_bigrams_and_dice():
    assert search.bigrams("无房证明") == ["无房", "房证", "证明"]
    assert search.bigrams("证") == ["证"]
    assert search.dice(["无房", "房证", "证名"], ["无房", "房证", "证明"]) == pytest.approx(2 / 3)
    assert search.dice([], ["a"]) == 0.0


def _cand(i, code, name, aliases=(), text=()):
    return search.Candidate(id=i, code=code, name=name, aliases=aliases, text_tokens=frozenset(text))


def test_ranking_exact_name_then_alias_then_hits_then_code():
    q = search.parse_query("低保")
    ranked = search.rank(q, [
        _cand(1, "003", "低收入家庭认定", text=["低保"]),
        _cand(2, "002", "特困供养", aliases=("低保",)),
        _cand(3, "001", "最低生活保障"),
        _cand(4, "000", "最低生活保障对象退出", text=["最低生活保障"]),
    ])
    assert [c.id for c in ranked] == [3, 2, 4, 1]


def test_ranking_ties_break_by_shorter_name_then_code():
    q = search.parse_query("证明")
    ranked = search.rank(q, [_cand(1, "002", "甲证明"), _cand(2, "001", "乙证明"), _cand(3, "000", "丙丙证明")])
    assert [c.code for c in ranked] == ["001", "002", "000"]


def test_fuzzy_rank_finds_a_mistyped_name():
    q = search.parse_query("无房证名")
    found = search.fuzzy_rank(q, [_cand(1, "1", "无住房证明开具", aliases=("无房证明",)), _cand(2, "2", "结婚登记")])
    assert [c.id for c in found] == [1]


@pytest.mark.django_db
def test_index_matches_every_group_or_any_group():
    from django.db import connection

    idx = search.FtsIndex("catalog_search")
    idx.clear()
    idx.upsert([(1, search.doc_text("无住房证明开具"), search.grams_text("无住房证明开具")),
                (2, search.doc_text("社保缴交证明开具"), search.grams_text("社保缴交证明开具")),
                (3, search.doc_text("结婚登记"), search.grams_text("结婚登记"))])
    assert idx.match([{"证明"}]) == [1, 2]
    assert idx.match([{"证明"}, {"社保", "医保"}]) == [2]
    assert idx.match([{"证明"}, {"结婚"}], require_all=False) == [1, 2, 3]
    assert idx.match([{"证名"}]) == []
    assert idx.match([{"证明"}], column="grams") == [1, 2]
    idx.upsert([(1, search.doc_text("结婚登记预约"), "")])  # an update replaces the row
    assert idx.match([{"证明"}]) == [2]
    idx.delete([2])
    assert idx.match([{"证明"}]) == []
    assert idx.match([]) == []
    assert connection.vendor in ("sqlite", "postgresql")


def test_bad_table_names_are_refused():
    with pytest.raises(ValueError):
        search.FtsIndex("x; drop table y")


def test_keywords_pick_telling_words():
    words = search.keywords("小区门口的路灯坏了好几天，晚上很黑，希望尽快修理路灯")
    assert "路灯" in words
