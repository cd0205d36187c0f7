"""Capability names: the one vocabulary services and selectors check (``principal.can(Cap.X, area)``,
``scoped(qs, principal, Cap.X)``). They live in core so that every app can name them — regions as
well as accounts, which grants them to roles (``accounts.roles.CAPABILITIES``) and to API keys
(``accounts.principals.KEY_SCOPE_CAPABILITIES``). Keep them few and coarse; the area does the
fine-grained part. An app adding a capability adds it here, in its own line."""


class Cap:
    # Held through roles (accounts.roles.CAPABILITIES).
    VIEW = "view"  # see records of the scope (cases, evaluations, appeals…)
    UNMASK = "unmask"  # see full personal data (audited)
    AUDIT_VIEW = "audit.view"
    USERS_MANAGE = "users.manage"
    KEYS_MANAGE = "keys.manage"
    CALENDAR_EDIT = "calendar.edit"
    REGIONS_EDIT = "regions.edit"
    CATALOG_EDIT = "catalog.edit"  # standard items (shared elements)
    STATIONING_EDIT = "stationing.edit"  # local items, stationing at sites
    CASE_HANDLE = "case.handle"
    CASE_MANAGE = "case.manage"
    EVALUATION_RECORD = "evaluation.record"
    BADREVIEW_HANDLE = "badreview.handle"
    BADREVIEW_DECIDE = "badreview.decide"  # decide appeals of bad reviews from below
    FOLLOWUP_WORK = "followup.work"
    APPEAL_HANDLE = "appeal.handle"
    APPEAL_MANAGE = "appeal.manage"
    INSPECT = "inspect"
    INSPECTION_RESPOND = "inspection.respond"  # the inspected level: submit materials, answer notices (督查)
    POLICY_EDIT = "policy.edit"
    KIOSK_MANAGE = "kiosk.manage"  # self-service terminals: register, maintenance, item lists, revocation
    ENGAGEMENT_MANAGE = "engagement.manage"  # symposiums, trainings, opinion-collection campaigns
    PROPOSAL_HANDLE = "proposal.handle"  # take in, assign, draft the reply, track the plan
    PROPOSAL_SIGN = "proposal.sign"  # 签发 a reply (a leader; never the reply's drafter)

    # Held through API keys' scopes (accounts.principals.KEY_SCOPE_CAPABILITIES).
    CASE_INTAKE = "case.intake"  # an intake system files cases
    EVALUATION_DEVICE = "evaluation.device"  # a window's evaluator
    EVALUATION_KIOSK = "evaluation.kiosk"  # a self-service terminal
    EVALUATION_PROVINCIAL = "evaluation.provincial"  # the provincial 好差评 system
    APPEAL_INTAKE = "appeal.intake"  # the 12345 platform pushes work orders
    APPEAL_OPEN311 = "appeal.open311"  # Open311 GeoReport clients
    POLICY_READ = "policy.read"  # a system keeping a copy of the policy library
    KIOSK_DEVICE = "kiosk.device"  # a self-service terminal's own routes (heartbeat, config, certificates, usage)


def all_capabilities() -> frozenset[str]:
    return frozenset(v for k, v in vars(Cap).items() if k.isupper())
