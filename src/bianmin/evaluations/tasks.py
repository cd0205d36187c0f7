"""Daily jobs of 好差评 (run by ``bianmin worker``; each idempotent)."""

from __future__ import annotations

from django_tasks import task


@task()
def apply_default_evaluations() -> int:
    from .services import evaluations_apply_defaults

    return evaluations_apply_defaults()


@task()
def invite_missing() -> int:
    from .services import evaluations_invite_missing

    return evaluations_invite_missing()
