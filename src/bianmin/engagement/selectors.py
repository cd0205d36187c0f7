"""Every read of engagement, already scoped (core.scoping): a record is seen through its area.
A proposal is also seen by the units it was assigned to (their assignments' areas)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, Sum

from bianmin.core.capabilities import Cap
from bianmin.core.principal import Principal
from bianmin.core.scoping import get_scoped, scope_filter, scoped

from .models import (
    Assignment,
    Campaign,
    CampaignEntry,
    CampaignFinding,
    Opinion,
    Proposal,
    Reply,
    Representative,
    Symposium,
    Training,
)

# --- symposiums --------------------------------------------------------------------------------


def representatives(*, actor: Principal, kind: str | None = None) -> QuerySet[Representative]:
    """The representatives of the user's areas and of the areas above them: a city's deputies and
    members are invited to its districts' symposiums too (their contacts stay masked there; only
    the city, whose records they are, may unmask them)."""
    paths = actor.area_paths_for(Cap.VIEW)
    above = {"/".join(p.rstrip("/").split("/")[:i]) + "/" for p in paths for i in range(1, p.rstrip("/").count("/") + 1)}
    qs = Representative.objects.select_related("area").filter(
        scope_filter(actor, Cap.VIEW) | Q(area__path__in=above), active=True)
    return qs.filter(kind=kind) if kind else qs


def symposiums(*, actor: Principal, year: int | None = None, status: str | None = None) -> QuerySet[Symposium]:
    qs = scoped(Symposium.objects.select_related("area"), actor, Cap.VIEW)
    if year:
        qs = qs.filter(year=year)
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(n_invited=Count("invitations", distinct=True), n_opinions=Count("opinions", distinct=True)) \
        .order_by("-year", "-quarter", "area__code")


def symposium_get(*, actor: Principal, symposium_id: int) -> Symposium:
    return get_scoped(Symposium.objects.select_related("area", "site"), actor, Cap.VIEW, pk=symposium_id)


def schedule(*, actor: Principal, area, year: int) -> list[tuple[object, list[Symposium | None]]]:
    """The quarterly schedule: the area (a committee) and its districts, each with its four
    quarters (None where no symposium is planned)."""
    from bianmin.regions.models import Area

    areas = [area, *Area.objects.filter(parent=area, level="district").order_by("code")] if area.level == "city" \
        else [area]
    rows = {(s.area_id, s.quarter): s for s in symposiums(actor=actor, year=year).filter(area__in=areas)}
    return [(a, [rows.get((a.pk, q)) for q in range(1, 5)]) for a in areas if actor.sees_area(a)]


def opinions(*, actor: Principal, status: str | None = None) -> QuerySet[Opinion]:
    qs = scoped(Opinion.objects.select_related("symposium", "area", "raised_by__representative", "rectification"),
                actor, Cap.VIEW)
    return qs.filter(status=status) if status else qs


# --- trainings ---------------------------------------------------------------------------------

def trainings(*, actor: Principal, status: str | None = None) -> QuerySet[Training]:
    qs = scoped(Training.objects.select_related("area", "site"), actor, Cap.VIEW)
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(n_registrations=Count("registrations", distinct=True)).order_by("-starts_at", "-id")


def training_get(*, actor: Principal, training_id: int) -> Training:
    return get_scoped(Training.objects.select_related("area", "site", "questionnaire"), actor, Cap.VIEW,
                      pk=training_id)


@dataclass
class TrainingFigures:
    enterprises: int = 0
    people: int = 0
    attended_enterprises: int = 0
    attended_people: int = 0
    pilot_codes: int = 0
    feedback_sent: int = 0
    feedback_answered: int = 0
    scores: list[tuple[str, str]] = field(default_factory=list)  # (question, average or counts)

    @property
    def attendance_rate(self) -> str:
        return f"{self.attended_enterprises / self.enterprises * 100:.1f}%" if self.enterprises else "—"

    @property
    def response_rate(self) -> str:
        return f"{self.feedback_answered / self.feedback_sent * 100:.1f}%" if self.feedback_sent else "—"


def training_figures(training: Training) -> TrainingFigures:
    """Figures per session: registrations, attendance, feedback and its answers."""
    regs = training.registrations.all()
    agg = regs.aggregate(n=Count("id"), people=Sum("attendees"), att=Count("id", filter=Q(attended=True)),
                         att_people=Sum("attendees", filter=Q(attended=True)), pilot=Count("id", filter=Q(pilot_code=True)))
    f = TrainingFigures(enterprises=agg["n"], people=agg["people"] or 0, attended_enterprises=agg["att"],
                        attended_people=agg["att_people"] or 0, pilot_codes=agg["pilot"])
    q = training.questionnaire
    if q is not None:
        f.feedback_sent = q.invitations.count()
        answers = [inv.response.answers for inv in q.invitations.filter(answered_at__isnull=False)
                   .select_related("response")]
        f.feedback_answered = len(answers)
        f.scores = question_summary(q, answers)
    return f


def question_summary(questionnaire, answers: list[dict]) -> list[tuple[str, str]]:
    """Per question: the average score, the share of each option, or how many wrote something."""
    out = []
    for question in questionnaire.questions.all():
        key = str(question.position)
        if question.kind == "scale":
            vals = [a[key] for a in answers if isinstance(a.get(key), int)]
            out.append((question.text, f"平均 {sum(vals) / len(vals):.2f} 分（{len(vals)} 人）" if vals else "—"))
        elif question.kind in ("single", "multiple"):
            counts = {o: 0 for o in question.options}
            for a in answers:
                v = a.get(key)
                for choice in v if isinstance(v, list) else [v] if v else []:
                    counts[choice] = counts.get(choice, 0) + 1
            out.append((question.text, "，".join(f"{o} {n}" for o, n in counts.items())))
        else:
            out.append((question.text, f"{sum(1 for a in answers if a.get(key))} 人填写"))
    return out


# --- campaigns ---------------------------------------------------------------------------------

def campaigns(*, actor: Principal, status: str | None = None) -> QuerySet[Campaign]:
    qs = scoped(Campaign.objects.select_related("area"), actor, Cap.VIEW)
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(n_entries=Count("entries", distinct=True), n_findings=Count("findings", distinct=True)) \
        .order_by("-starts_on", "-id")


def campaign_get(*, actor: Principal, campaign_id: int) -> Campaign:
    return get_scoped(Campaign.objects.select_related("area", "questionnaire"), actor, Cap.VIEW, pk=campaign_id)


SATISFIED = ("满意", "基本满意")


@dataclass
class SiteResult:
    site: object
    entries: int
    by_channel: dict[str, int]
    rates: list[tuple[str, str]]  # (dimension, satisfaction rate)


def campaign_results(*, actor: Principal, campaign: Campaign) -> list[SiteResult]:
    """Results per site, of the sites the user sees: sheets by channel and, for each single-choice
    question, the share answering 满意 or 基本满意."""
    questions = [q for q in campaign.questionnaire.questions.all() if q.kind == "single"]
    out = []
    for cs in campaign.sites.select_related("site__area").order_by("site__code"):
        if not actor.sees_area(cs.site.area):
            continue
        entries = list(CampaignEntry.objects.filter(campaign=campaign, site=cs.site).select_related("response"))
        by_channel = {str(label): sum(1 for e in entries if e.channel == value)
                      for value, label in CampaignEntry.Channel.choices}
        rates = []
        for q in questions:
            vals = [e.response.answers.get(str(q.position)) for e in entries]
            vals = [v for v in vals if v]
            good = sum(1 for v in vals if v in SATISFIED)
            rates.append((q.text, f"{good / len(vals) * 100:.1f}%" if vals else "—"))
        out.append(SiteResult(site=cs.site, entries=len(entries), by_channel=by_channel, rates=rates))
    return out


def campaign_entries(*, actor: Principal, campaign: Campaign) -> QuerySet[CampaignEntry]:
    """回访台账 of the campaign: its sheets (scanned, visited, called) at the sites the user sees."""
    return scoped(CampaignEntry.objects.filter(campaign=campaign).select_related("site", "followup", "entered_by",
                                                                                 "response"), actor, Cap.VIEW)


def campaign_findings(*, actor: Principal, campaign: Campaign) -> QuerySet[CampaignFinding]:
    """问题清单 and 整改计划: the findings and their entries in the shared rectification ledger."""
    return scoped(CampaignFinding.objects.filter(campaign=campaign).select_related("site", "rectification"), actor,
                  Cap.VIEW).order_by("id")


# --- proposals ---------------------------------------------------------------------------------

def _proposal_scope(actor: Principal) -> Q:
    return scope_filter(actor, Cap.VIEW) | scope_filter(actor, Cap.VIEW, area_field="assignments__area")


def proposals(*, actor: Principal, status: str | None = None, kind: str | None = None, q: str = "",
              overdue: bool = False) -> QuerySet[Proposal]:
    ids = Proposal.objects.filter(_proposal_scope(actor)).values("pk")
    qs = Proposal.objects.filter(pk__in=ids).select_related("area")
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(number__icontains=q) | Q(proposer__icontains=q))
    if overdue:
        from django.utils import timezone

        qs = qs.filter(assignments__status=Assignment.Status.HANDLING,
                       assignments__due_on__lt=timezone.localdate()).distinct()
    return qs.order_by("-received_on", "-id")


def proposal_get(*, actor: Principal, proposal_id: int) -> Proposal:
    from bianmin.core.errors import NotFound

    p = Proposal.objects.filter(_proposal_scope(actor), pk=proposal_id).select_related("area").first()
    if p is None:
        raise NotFound("未找到该记录")
    return p


def reply_get(*, actor: Principal, reply_id: int) -> Reply:
    """A reply, seen by the replying unit's area or the receiving office's."""
    from bianmin.core.errors import NotFound

    scope = scope_filter(actor, Cap.VIEW, area_field="assignment__area") | scope_filter(
        actor, Cap.VIEW, area_field="assignment__proposal__area")
    r = (Reply.objects.filter(scope, pk=reply_id).select_related("assignment__proposal__area", "assignment__area",
                                                                 "result_class", "signed_by", "drafted_by").first())
    if r is None:
        raise NotFound("未找到该记录")
    return r
