"""The bad-review rule, once (evaluations.models): the grade test, its query form and the
'counts' rule agree for every grade and flag, in Python and in the database."""

import itertools

import pytest

from bianmin.evaluations.models import BAD, BAD_GRADES, COUNTED_BAD, Evaluation, Grade, is_bad_grade


def test_bad_grades_are_the_two_unsatisfied_ones():
    assert {g for g in Grade.values if is_bad_grade(g)} == {Grade.UNSATISFIED, Grade.VERY_UNSATISFIED} == set(BAD_GRADES)


@pytest.mark.django_db
def test_the_query_forms_agree_with_the_properties(completed_case):
    from bianmin.evaluations.services import evaluation_submit

    for grade in Grade.values:
        evaluation_submit(case_id=completed_case().pk, grade=grade, channel="web", actor=None,
                          reasons=["attitude"] if is_bad_grade(grade) else [])
    # every combination of the two flags that take a bad review out of the count
    rows = list(Evaluation.objects.order_by("pk"))
    for e, (default, excluded) in zip(rows, itertools.cycle(itertools.product((False, True), repeat=2)), strict=False):
        Evaluation.objects.filter(pk=e.pk).update(is_default=default, excluded=excluded)
    rows = list(Evaluation.objects.order_by("pk"))
    assert {e.pk for e in rows if e.is_bad} == set(Evaluation.objects.filter(BAD).values_list("pk", flat=True))
    counted = {e.pk for e in rows if e.is_counted_bad}
    assert counted == set(Evaluation.objects.filter(COUNTED_BAD).values_list("pk", flat=True))
    assert counted and counted != {e.pk for e in rows if e.is_bad}
