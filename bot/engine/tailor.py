"""Pick and rank questions for one person: deterministic for the same inputs.

Rules, in the order they bind:
- eligibility: the stage fits (no stage: any), company type and role family fit when the
  question names them, delicate questions only where the person asked and the stage suits;
- every stated priority gets a question, in the person's order, when the count allows;
- every list of 3 or more has all three purposes;
- no two near-duplicates in one list, and nothing in `exclude` (already shown) is picked;
- the rest is filled by score.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from question_bank.model import PURPOSES, Bank, Homework, Question, fill_placeholders
from question_bank.priorities import normalize
from question_bank.similarity import content_words, near_duplicates

OPENER_ID = "notes-opener"
# The person's notes are theirs: the opener never quotes them (they may hold a friend's words or a
# rumour). It asks about recent changes in general; a coaching line tells the person how to bring
# their own research in, in their own words.
_OPENER_TEXT = (
    "I read up on {company}'s recent news before today; how are the latest changes shaping the plans for {role}?"
)
_OPENER_WHY = (
    "It shows you did your homework and turns it into a conversation about what the job will really "
    "involve. Add one fact you found, in a few words of your own, and leave out anything you heard "
    "privately or that could sound like gossip."
)
_OPENER_LISTEN = (
    "Whether they connect it to day-to-day work and speak openly about it. A good answer adds "
    "detail you could not have found on your own."
)

_ROLE_FAMILY_WORDS: dict[str, tuple[str, ...]] = {
    "engineering": ("engineer", "ingenier", "ingenieur", "engenheir", "desarrollador", "developpeur", "entwickler",
                    "desenvolvedor", "programador", "developer", "programmer", "software", "devops", "sre",
                    "backend", "frontend", "full stack", "fullstack", "qa", "tester", "architect", "firmware"),
    "data": ("data", "analyst", "analytics", "scientist", "machine learning", "ml", "bi", "statistic"),
    "design": ("design", "designer", "ux", "ui", "illustrator", "artist", "creative"),
    "product": ("product manager", "product owner", "product lead", "pm"),
    "sales": ("sales", "account executive", "account manager", "business development", "sdr", "bdr"),
    "marketing": ("marketing", "marketer", "brand", "seo", "content", "communications", "social media"),
    "support": ("support", "customer service", "customer success", "help desk", "helpdesk", "call center",
                "call centre", "contact center", "contact centre"),
    "operations": ("operations", "supply chain", "project manager", "coordinator", "administrator", "admin",
                   "office manager", "receptionist", "secretary", "executive assistant"),
    "finance": ("finance", "contador", "contadora", "contable", "comptable", "buchhalter", "contabilista",
                "accountant", "accounting", "bookkeeper", "auditor", "controller", "financial", "payroll",
                "payroll administrator", "payroll officer", "treasury", "actuary", "underwriter"),
    "people": ("hr", "human resources", "recruiter", "talent", "people partner"),
    "healthcare": ("nurse", "enfermer", "infirmi", "pflegefach", "pflegekraft", "krankenpfleg", "krankenschwester",
                   "medic", "medecin", "arzt", "arztin", "farmaceut", "apotheker", "pharmacien", "doctor",
                   "physician", "clinical", "clinician", "therapist", "pharmacist", "pharmacy", "medical",
                   "paramedic", "dental", "midwife", "radiographer", "phlebotomist", "surgeon"),
    "education": ("teacher", "profesor", "maestr", "docente", "enseignant", "professeur", "instituteur",
                  "institutrice", "lehrer", "erzieher", "educador", "educadora", "educatrice", "educateur", "tutor",
                  "lecturer", "professor", "instructor", "educator", "teaching", "teaching assistant", "headteacher",
                  "principal", "school", "early years", "nursery", "childcare"),
    "legal": ("lawyer", "attorney", "paralegal", "legal", "solicitor", "counsel", "compliance"),
    "trades": ("electrician", "electricista", "electricien", "elektriker", "eletricista", "fontaner", "plombier",
               "klempner", "encanador", "mecanic", "mecanicien", "mechaniker", "plumber", "carpenter", "mechanic",
               "technician", "welder", "hvac", "installer", "construction", "roofer", "joiner", "bricklayer",
               "apprentice", "site manager"),
    "social_care": ("social worker", "trabajador social", "trabajadora social", "travailleur social",
                    "travailleuse sociale", "assistante sociale", "assistant social", "sozialarbeiter",
                    "sozialpadagog", "assistente social", "cuidador", "auxiliaire de vie", "altenpfleg",
                    "case manager", "caseworker", "case worker", "support worker", "care worker", "care assistant",
                    "caregiver", "carer", "youth worker", "counselor", "counsellor", "home care", "care home"),
    "logistics": ("driver", "conductor", "conductora", "chofer", "repartidor", "chauffeur", "livreur", "fahrer",
                  "kraftfahrer", "lkw", "motorista", "entregador", "almacen", "entrepot", "lager", "cariste",
                  "courier", "warehouse", "logistics", "dispatcher", "forklift", "delivery", "truck", "lorry", "hgv",
                  "cdl", "picker", "packer", "fleet"),
    "retail": ("retail", "dependient", "cajer", "encargado de tienda", "encargada de tienda", "gerente de tienda",
               "vendeur", "vendeuse", "caissi", "responsable de magasin", "verkaufer", "kassierer", "filialleit",
               "vendedor", "vendedora", "caixa", "gerente de loja", "store manager", "shop", "cashier",
               "sales associate", "merchandiser", "store assistant", "shop assistant", "assistant manager"),
    "hospitality": ("chef", "cocinero", "cocinera", "camarer", "mesero", "mesera", "cuisinier", "cuisiniere",
                    "serveur", "serveuse", "koch", "kochin", "kellner", "cozinheir", "garcom", "garconete", "cook",
                    "server", "waiter", "waitress", "bartender", "barista", "hotel", "front desk", "housekeeping",
                    "housekeeper", "restaurant", "kitchen", "sous chef"),
    "manufacturing": ("production", "assembly", "operator", "machinist", "factory", "plant manager", "manufacturing",
                      "quality inspector", "fabricator", "line lead"),
    "public_service": ("civil servant", "police", "firefighter", "council", "government", "public servant",
                       "policy officer", "planning officer", "librarian", "corrections officer"),
    "nonprofit": ("program manager", "programme manager", "program officer", "programme officer", "fundraiser",
                  "fundraising", "development officer", "volunteer coordinator", "grant writer", "campaigner",
                  "community organizer"),
}  # fmt: skip
TECHNICAL_FAMILIES = frozenset({"engineering", "data"})
SAME_TOPIC_COST = 60.0
OPENER_MIN_COUNT = 4  # shorter lists have no room for it beside all three purposes
DEFAULT_LEVEL = "experienced"  # a title that names no level: neither intern nor executive questions
CLOSE_MIN_COUNT = 5  # a list this long ends with a closing question (not at the offer stage)
_HOMEWORK_FALLBACK = ("strategy", "culture", "role", "vacancy")
MAX_PER_SUBJECT = 2  # questions on one narrow subject (time off, cover while away) in one list


# Where a line of work usually happens; families missing here (sales, support, public service)
# vary too much to assume. Job-title words come first: a warehouse picker works shifts, a field
# engineer is out and about.
_FAMILY_SETTINGS: dict[str, str] = {
    "healthcare": "shift", "social_care": "field", "trades": "field", "logistics": "field",
    "retail": "shift", "hospitality": "shift", "manufacturing": "shift", "education": "onsite",
    "engineering": "hybrid", "data": "hybrid", "design": "hybrid", "product": "hybrid",
    "marketing": "hybrid", "finance": "hybrid", "legal": "hybrid", "people": "hybrid",
    "operations": "hybrid", "nonprofit": "hybrid",
}  # fmt: skip
_SETTING_WORDS: dict[str, tuple[str, ...]] = {
    "remote": ("remote", "work from home", "home based", "home-based"),
    "field": ("field", "mobile", "driver", "courier", "delivery", "travelling", "traveling", "home care"),
    "shift": (
        "warehouse",
        "picker",
        "packer",
        "forklift",
        "night",
        "shift",
        "call center",
        "call centre",
        "customer service",
        "police",
        "constable",
        "firefighter",
        "paramedic",
        "prison officer",
    ),
}


_LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    "executive": ("chief", "ceo", "cfo", "cto", "coo", "cmo", "cio", "cpo", "vp", "svp", "evp", "vice president",
                  "president", "founder", "co-founder", "cofounder", "managing director", "head of", "director",
                  "managing partner", "general manager"),
    "senior": ("senior", "sr", "lead", "principal", "staff engineer"),
    "intern": ("intern", "internship", "student", "placement", "co-op", "summer analyst", "work experience"),
    "early": ("junior", "jr", "graduate", "grad", "entry level", "entry-level", "apprentice", "trainee", "assistant"),
}  # fmt: skip


def _first_named(role: str | None, words_by_value: dict[str, tuple[str, ...]]) -> str | None:
    """The first value whose words appear whole in the job title, or None."""
    if not role:
        return None
    padded = " " + " ".join(re.sub(r"[^a-z0-9+ -]", " ", role.lower()).split()) + " "
    return next((value for value, words in words_by_value.items() if any(f" {w} " in padded for w in words)), None)


def seniority(role: str | None) -> str | None:
    """The person's level from the job title, or None when the title doesn't say."""
    return _first_named(role, _LEVEL_WORDS)


def work_setting(role: str | None) -> str | None:
    """Where the work most likely happens, from the job title, or None when it can't be told."""
    named = _first_named(role, _SETTING_WORDS)
    if named is not None:
        return named
    family = role_family(role)
    return _FAMILY_SETTINGS.get(family) if family else None


def role_family(role: str | None) -> str | None:
    """The family a job title most likely belongs to, or None when nothing fits."""
    if not role:
        return None
    padded = " " + " ".join(re.sub(r"[^a-z0-9+ ]", " ", normalize(role)).split()) + " "  # accents dropped
    best: tuple[int, str] | None = None
    for family, cues in _ROLE_FAMILY_WORDS.items():
        for cue in cues:
            at = padded.find(" " + cue)
            if at >= 0 and (best is None or len(cue) > best[0]):
                best = (len(cue), family)
    return best[1] if best else None


@dataclass(frozen=True)
class Profile:
    company: str | None = None
    role: str | None = None
    stage: str | None = None
    company_type: str | None = None
    priorities: tuple[str, ...] = ()
    notes: str | None = None
    setting: str | None = None  # where the work happens (SETTINGS); None: no assumption
    level: str | None = None  # seniority (LEVELS); None: no assumption
    avoid: tuple[str, ...] = ()  # topics the person set aside ("not about the money")
    note_topics: tuple[str, ...] = ()  # what their research notes are about

    def render(self, text: str) -> str:
        """A question template (or follow-up) filled for this person, in one pass, so braces in
        their own words are never read as placeholders."""
        return fill_placeholders(text, self.company, self.role)


@dataclass(frozen=True)
class Catalog:
    """The bank prepared once for fast selection."""

    questions: tuple[Question, ...]
    words: dict[str, frozenset[str]]
    order: dict[str, int]

    @classmethod
    def build(cls, bank: Bank) -> Catalog:
        return cls(
            questions=bank.questions,
            words={q.id: content_words(q.text) for q in bank.questions},
            order={q.id: i for i, q in enumerate(bank.questions)},
        )

    def get(self, question_id: str, profile: Profile) -> Question | None:
        if question_id == OPENER_ID:
            return opener(profile)
        index = self.order.get(question_id)
        return self.questions[index] if index is not None else None


def _has_notes(notes: str | None) -> bool:
    """Whether the notes say anything (not only punctuation): they are never quoted, only read."""
    return bool((notes or "").strip().rstrip(".!?;:,"))


# An opening question on the subject of the person's notes, asked without revealing a source:
# a rumour about a bad manager becomes a respectful question about how the team is managed.
_OPENER_BY_TOPIC: dict[str, str] = {
    "manager": "How would you describe the way this team is managed, and how long have people tended to stay?",
    "stability": "I've followed {company}'s news before today; how settled is the outlook for the team {role} joins?",
    "vacancy": "How long has this position been open, and what has made it hard to fill?",
    "strategy": _OPENER_TEXT,
    "culture": "What is it like to work here day to day, in the words of people who have been here a while?",
    "team": "How has the team changed over the last year, and how has that shaped the plans for {role}?",
    "worklife": "How have workloads and hours changed for the team recently, and what is being done about it?",
    "impact": "Which recent piece of work is {company} proudest of, and how did the team behind it make it happen?",
}


def opener(profile: Profile) -> Question | None:
    """One opening question on what the person's research notes are about, never quoting them
    (a template: render it with Profile.render)."""
    if not _has_notes(profile.notes):
        return None
    topic = next((t for t in profile.note_topics if t in _OPENER_BY_TOPIC), "strategy")
    return Question(
        id=OPENER_ID,
        text=_OPENER_BY_TOPIC[topic],
        purpose="organization",
        topics=(topic,),
        stages=("recruiter", "hiring_manager", "team", "executive", "offer"),
        why=_OPENER_WHY,
        listen_for=_OPENER_LISTEN,
    )


def _eligible(q: Question, profile: Profile, family: str | None) -> bool:
    if profile.stage and profile.stage not in q.stages:
        return False
    if q.topics[0] in profile.avoid:
        return False  # they said it does not matter to them
    if q.settings and profile.setting and profile.setting not in q.settings:
        return False  # no office-day questions for a driver, a nurse on shifts or an electrician
    if q.levels and (profile.level or DEFAULT_LEVEL) not in q.levels:
        return False  # no "growing without becoming a manager" for a VP, no board questions for a teacher
    if q.company_types and profile.company_type not in q.company_types:
        return False
    if q.role_families and family not in q.role_families:
        return False
    asked = any(t in profile.priorities for t in q.topics)
    if q.topics[0] == "compensation" and "compensation" not in profile.priorities and profile.stage != "offer":
        return False  # pay comes up when the person asked about it, or once there is an offer
    if profile.stage is None and q.stages in (("offer",), ("executive",)):
        return asked  # with no stage given, an offer-only or leaders-only question needs a reason
    if q.sensitivity == "high":  # pay figures, layoffs, why the last person left
        return asked or (profile.stage == "offer" and "compensation" in q.topics)
    if q.sensitivity == "medium":  # delicate: only when asked, or once there is an offer to discuss
        return asked or profile.stage == "offer"
    return True


def _score(q: Question, profile: Profile, family: str | None, priorities: tuple[str, ...]) -> float:
    score = 0.0
    count = len(priorities)
    for rank, topic in enumerate(priorities):
        if topic in q.topics:
            weight = (count - rank) * 100.0
            score += weight if q.topics[0] == topic else weight * 0.4
    if q.company_types:
        score += 15  # written for this kind of employer: beats a generic question on the same topic
    if q.role_families:
        score += 15
    if q.levels and profile.level in q.levels and len(q.levels) <= 2:
        score += 40  # written for this level: an executive's mandate, an intern's return offer
    if profile.stage and len(q.stages) <= 2:
        score += 5  # written for this very conversation
    if "tech" in q.topics and "tech" not in profile.priorities:
        # A technical role brings tech questions forward only when tech was asked about or
        # the person is meeting the team; otherwise they wait behind everything else.
        nudge = 60 if family in TECHNICAL_FAMILIES and profile.stage == "team" else -60
        score += nudge if q.topics[0] == "tech" else nudge / 2
    if q.sensitivity != "low" and not any(t in profile.priorities for t in q.topics):
        score -= 30
    return score


def _crowded(q: Question, others: Iterable[Question], priorities: tuple[str, ...]) -> bool:
    """Whether `others` already hold a question that means the same as q (`alike`, either way), or
    MAX_PER_SUBJECT on q's narrow subject, that limit lifted when its topic is all the person asked about."""
    others = list(others)
    if any(p.id in q.alike or q.id in p.alike for p in others):
        return True
    if not q.subject or priorities == (q.topics[0],):
        return False
    return sum(p.subject == q.subject for p in others) >= MAX_PER_SUBJECT


@dataclass
class _Picker:
    catalog: Catalog
    count: int
    picked: list[Question]
    priorities: tuple[str, ...] = ()

    def fits(self, q: Question, ignore: Question | None = None) -> bool:
        words = self.catalog.words[q.id]
        others = [p for p in self.picked if p is not ignore]
        if _crowded(q, others, self.priorities):
            return False
        return all(p.id != q.id for p in others) and not any(
            near_duplicates(words, self.catalog.words.get(p.id, frozenset())) for p in others
        )

    def missing_purposes(self) -> set[str]:
        if self.count < len(PURPOSES):
            return set()
        return set(PURPOSES) - {p.purpose for p in self.picked}

    def take(self, candidates: Iterable[Question], covering: bool = False) -> bool:
        """Add the best candidate that fits. Filling (not `covering` a priority), when the remaining
        places are all needed for missing purposes, only those purposes fit; covering, a missing
        purpose is preferred but coverage wins, and repair_purposes mends the rest."""
        missing = self.missing_purposes()
        tight = not covering and missing and self.count - len(self.picked) <= len(missing)
        fallback: Question | None = None
        for q in candidates:
            if (tight and q.purpose not in missing) or not self.fits(q):
                continue
            if not covering or not missing or q.purpose in missing:
                self.picked.append(q)
                return True
            fallback = fallback or q
        if fallback is not None:
            self.picked.append(fallback)
            return True
        return False

    def repair_purposes(self, ranked: list[Question], priorities: tuple[str, ...], keep: int) -> None:
        """Swap in a question of each missing purpose. The first `keep` picks stay; otherwise the
        least needed pick goes, replaced where possible by one that covers the same priorities."""
        for purpose in sorted(self.missing_purposes(), key=PURPOSES.index):
            options = [q for q in ranked if q.purpose == purpose]
            spare = self._spare(keep)
            for index in spare:
                lost = self._only_covered_by(index, priorities)
                out = self.picked[index]
                newcomer = next((q for q in options if lost <= set(q.topics) and self.fits(q, ignore=out)), None)
                if newcomer is not None:
                    self.picked[index] = newcomer
                    break
            else:  # no swap keeps every priority covered: give up the least important coverage
                for index in spare:
                    out = self.picked[index]
                    newcomer = next((q for q in options if self.fits(q, ignore=out)), None)
                    if newcomer is not None:
                        self.picked[index] = newcomer
                        break

    def _only_covered_by(self, index: int, priorities: tuple[str, ...]) -> set[str]:
        rest = {t for j, q in enumerate(self.picked) if j != index for t in q.topics}
        return {t for t in self.picked[index].topics if t in priorities and t not in rest}

    def _spare(self, keep: int) -> list[int]:
        """Picks that may be given up, latest first: never one of the first `keep`, and never the
        only question of its purpose."""
        counts: dict[str, int] = {}
        for q in self.picked:
            counts[q.purpose] = counts.get(q.purpose, 0) + 1
        return [i for i in range(len(self.picked) - 1, keep - 1, -1) if counts[self.picked[i].purpose] > 1]


def effective_priorities(profile: Profile) -> tuple[str, ...]:
    """The stated priorities, then what the notes are about, plus `tech` last for a technical role
    meeting the team."""
    found = (*profile.priorities, *(t for t in profile.note_topics if t not in profile.priorities))
    if "tech" not in found and profile.stage == "team" and role_family(profile.role) in TECHNICAL_FAMILIES:
        return (*found, "tech")
    return found


def closing(catalog: Catalog, profile: Profile, exclude: Iterable[str] = ()) -> Question | None:
    """The question to end an interview with (next steps, any doubts about the candidate): the
    first in the bank that suits the stage, the employer and the job. None at the offer stage."""
    if profile.stage == "offer":
        return None
    excluded = set(exclude)
    family = role_family(profile.role)
    for q in catalog.questions:
        if not q.close or q.id in excluded or (profile.stage and profile.stage not in q.stages):
            continue
        if q.company_types and profile.company_type not in q.company_types:
            continue
        if not q.role_families or family in q.role_families:
            return q
    return None


def select(
    catalog: Catalog,
    profile: Profile,
    count: int,
    exclude: Iterable[str] = (),
    with_close: bool = True,
) -> list[Question]:
    """The best `count` questions for `profile`, ranked, never any id in `exclude`. With notes and
    room (OPENER_MIN_COUNT or more), the first place goes to an opening question built from them;
    with CLOSE_MIN_COUNT or more at an interview stage, the last goes to a closing question."""
    if count <= 0:
        return []
    first = opener(profile) if count >= OPENER_MIN_COUNT and OPENER_ID not in exclude else None
    if first is not None:
        count -= 1
    last = closing(catalog, profile, exclude) if with_close and count + (first is not None) >= CLOSE_MIN_COUNT else None
    if last is not None:
        count -= 1
    excluded = set(exclude)
    family = role_family(profile.role)
    priorities = effective_priorities(profile)
    scored = sorted(
        (-_score(q, profile, family, priorities), catalog.order[q.id], q)
        for q in catalog.questions
        if q.id not in excluded and not q.close and _eligible(q, profile, family)
    )
    ranked = [q for _, _, q in scored]
    picker = _Picker(catalog, count, [], priorities)
    for topic in priorities:
        if len(picker.picked) >= count:
            break
        if not picker.take((q for q in ranked if q.topics[0] == topic), covering=True):
            picker.take((q for q in ranked if topic in q.topics), covering=True)
    while len(picker.picked) < count and picker.take(_spread(scored, picker.picked)):
        pass
    picker.repair_purposes(ranked, priorities, keep=1)  # the top priority's question stays first
    return [*([first] if first else []), *picker.picked, *([last] if last else [])]


def _spread(scored: list[tuple[float, int, Question]], picked: list[Question]) -> Iterator[Question]:
    """Candidates best first once each already-picked question on the same topic has cost them
    SAME_TOPIC_COST, so a long list spreads over the priorities instead of piling on the first.
    Lazy: a cost only ever lowers a score, so a candidate can be yielded as soon as no later one
    (in the original order) could still beat it."""
    on_topic: dict[str, int] = {}
    for q in picked:
        on_topic[q.topics[0]] = on_topic.get(q.topics[0], 0) + 1
    waiting: list[tuple[float, int, Question]] = []
    for neg, order, q in scored:
        while waiting and waiting[0][:2] <= (neg, order):
            yield heapq.heappop(waiting)[2]
        heapq.heappush(waiting, (neg + SAME_TOPIC_COST * on_topic.get(q.topics[0], 0), order, q))
    while waiting:
        yield heapq.heappop(waiting)[2]


def replacement(
    catalog: Catalog,
    profile: Profile,
    replacing: Question,
    keep: list[Question],
    exclude: Iterable[str],
) -> Question | None:
    """The best unseen question to stand in for `replacing`: same purpose, then same topic."""
    excluded = set(exclude)
    family = role_family(profile.role)
    priorities = effective_priorities(profile)
    others = [catalog.words.get(q.id, content_words(q.text)) for q in keep]
    best: tuple[float, int, Question] | None = None
    if replacing.close:  # the last place stays a closing question
        return closing(catalog, profile, {*excluded, *(q.id for q in keep)})
    for q in catalog.questions:
        if q.id in excluded or q.close or not _eligible(q, profile, family):
            continue
        if any(near_duplicates(catalog.words[q.id], w) for w in others):
            continue
        if _crowded(q, keep, priorities):
            continue
        score = _score(q, profile, family, priorities)
        score += 1000 if q.purpose == replacing.purpose else 0
        score += 50 if q.topics[0] == replacing.topics[0] else 0
        key = (-score, catalog.order[q.id], q)
        if best is None or key[:2] < best[:2]:
            best = key
    return best[2] if best else None


def _suits(item: Homework, profile: Profile, family: str | None) -> bool:
    """A line tagged for some employers or lines of work is shown only when the person's match:
    with the employer type or the job unknown, only lines that suit anyone."""
    if item.company_types and profile.company_type not in item.company_types:
        return False
    if item.settings and profile.setting and profile.setting not in item.settings:
        return False
    return not item.role_families or family in item.role_families


def _round_robin(bank: Bank, topics: Iterable[str], profile: Profile, family: str | None) -> Iterable[Homework]:
    """First fitting homework line of each topic, then the second of each, and so on."""
    lists = [[h for h in bank.topics[t].homework if _suits(h, profile, family)] for t in topics if t in bank.topics]
    for depth in range(max((len(items) for items in lists), default=0)):
        for items in lists:
            if depth < len(items):
                yield items[depth]


def homework(bank: Bank, profile: Profile, limit: int = 5, minimum: int = 3) -> list[str]:
    """`minimum` to `limit` things to look up before the interview, led by the priorities, each
    suited to the kind of employer and the line of work."""
    family = role_family(profile.role)
    found: list[str] = []
    for topics, enough in ((profile.priorities, limit), (_HOMEWORK_FALLBACK, minimum)):
        for item in _round_robin(bank, topics, profile, family):
            if len(found) >= enough:
                break
            filled = fill_placeholders(item.text, profile.company, profile.role)
            if filled not in found:
                found.append(filled)
    return found
