"""Capability names live in one place (core.capabilities): what roles and API keys grant is named
there, so a typo in a grant cannot silently grant nothing."""

from bianmin.accounts.principals import KEY_SCOPE_CAPABILITIES
from bianmin.accounts.roles import CAPABILITIES
from bianmin.core.capabilities import Cap, all_capabilities


def test_every_granted_capability_is_a_named_one():
    granted = set().union(*CAPABILITIES.values(), *KEY_SCOPE_CAPABILITIES.values())
    assert granted <= all_capabilities()
    assert Cap.REGIONS_EDIT in all_capabilities() and Cap.APPEAL_OPEN311 in all_capabilities()


def test_names_are_unique():
    names = [v for k, v in vars(Cap).items() if k.isupper()]
    assert len(names) == len(set(names))
