"""The vocabulary of the question bank and the shape of a question.

Nothing here knows about chat: the engine, the CLI and the validator all read from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TOPICS: tuple[str, ...] = (
    "role", "onboarding", "manager", "team", "vacancy", "culture", "learning", "growth",
    "mentorship", "remote", "worklife", "compensation", "benefits", "stability", "strategy",
    "inclusion", "tech", "impact", "process",
)  # fmt: skip
STAGES: tuple[str, ...] = ("recruiter", "hiring_manager", "team", "executive", "offer")
PURPOSES: tuple[str, ...] = ("duties", "organization", "personal")
COMPANY_TYPES: tuple[str, ...] = (
    "startup", "scaleup", "enterprise", "public_sector", "nonprofit", "agency",
)  # fmt: skip
ROLE_FAMILIES: tuple[str, ...] = (
    "engineering", "data", "design", "product", "sales", "marketing", "support",
    "operations", "finance", "people", "healthcare", "education", "legal", "trades",
    "social_care", "logistics", "retail", "hospitality", "manufacturing", "public_service", "nonprofit",
)  # fmt: skip
SENSITIVITIES: tuple[str, ...] = ("low", "medium", "high")
PLACEHOLDERS: tuple[str, ...] = ("company", "role")

STAGE_LABELS: dict[str, str] = {
    "recruiter": "Recruiter or HR screen",
    "hiring_manager": "The hiring manager",
    "team": "Future teammates",
    "executive": "A senior leader",
    "offer": "I have an offer",
}
COMPANY_TYPE_LABELS: dict[str, str] = {
    "startup": "Startup",
    "scaleup": "Growing scale-up",
    "enterprise": "Large company",
    "public_sector": "Government or public sector",
    "nonprofit": "Nonprofit or charity",
    "agency": "Agency or consultancy",
}
STAGE_TITLES: dict[str, str] = {  # as in "Questions to ask Acme (Nurse, hiring manager interview)"
    "recruiter": "recruiter screen",
    "hiring_manager": "hiring manager interview",
    "team": "team interview",
    "executive": "senior leader interview",
    "offer": "offer stage",
}
PURPOSE_LABELS: dict[str, str] = {
    "duties": "About the work",
    "organization": "About the organization",
    "personal": "About what matters to you",
}

LEVELS: tuple[str, ...] = ("intern", "early", "experienced", "senior", "executive")

SETTINGS: tuple[str, ...] = ("onsite", "field", "shift", "hybrid", "remote")
SETTING_LABELS: dict[str, str] = {
    "onsite": "At one workplace, such as a school or an office I go to every day",
    "field": "Out and about: driving, visiting homes or moving between sites",
    "shift": "On shifts, such as on a ward, in a store or in a warehouse",
    "hybrid": "In an office, some days from home",
    "remote": "Mostly from home",
}
LEVEL_LABELS: dict[str, str] = {
    "intern": "Intern, student or placement",
    "early": "Early career: first years, junior or graduate",
    "experienced": "Experienced",
    "senior": "Senior or lead",
    "executive": "Executive: director, VP, head of, chief",
}

PLACEHOLDER_PATTERN = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    purpose: str
    topics: tuple[str, ...]
    stages: tuple[str, ...]
    why: str
    listen_for: str
    company_types: tuple[str, ...] = ()
    role_families: tuple[str, ...] = ()
    sensitivity: str = "low"
    red_flags: tuple[str, ...] = ()
    follow_ups: tuple[str, ...] = ()
    subject: str = ""  # a narrow subject shared with close cousins; at most two per list
    settings: tuple[str, ...] = ()  # the work settings it suits (office days suit no truck driver); empty: any
    levels: tuple[str, ...] = ()  # the seniority levels it suits (board questions for executives); empty: any
    alike: tuple[str, ...] = ()  # ids of questions that mean much the same in other words; never listed together
    close: bool = False  # a question to end the interview with, kept for the last place
    source: str = ""  # "file:line", for error messages


@dataclass(frozen=True)
class Homework:
    """One thing to look up before the interview. Empty `company_types` or `role_families` mean
    it suits any; otherwise only those (funding rounds are for startups, not for a hospital)."""

    text: str
    company_types: tuple[str, ...] = ()
    role_families: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    hint: str
    homework: tuple[Homework, ...] = ()


@dataclass(frozen=True)
class Lexicon:
    """How people talk about each topic in one language, as written in lexicon/<language>.yaml.
    `neutral` phrases name no topic; they only keep their words from being read as part of a topic
    phrase ("brand new"). `dismissals` are cues that a topic does not matter ("don't care");
    `clause_breaks` are words that end a clause as "but" does. `questions_in_english` is said once
    to a person writing in this language, since the questions are in English. `misspellings` (typos,
    slang, abbreviations) are read only when this is the text's likeliest language: in another
    language they are too often ordinary words ("pai" is a typo of "pay" and Portuguese for father)."""

    phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    neutral: tuple[str, ...] = ()
    language: str = "en"
    dismissals: tuple[str, ...] = ()
    clause_breaks: tuple[str, ...] = ()
    questions_in_english: str = ""
    misspellings: dict[str, tuple[str, ...]] = field(default_factory=dict)  # read only in text of this language
    hearsay: tuple[str, ...] = ()  # cues that a note is gossip or from a private source ("my friend says")


@dataclass(frozen=True)
class Bank:
    questions: tuple[Question, ...]
    topics: dict[str, Topic]
    lexicons: tuple[Lexicon, ...]  # English first

    def lexicon(self, language: str) -> Lexicon | None:
        return next((lexicon for lexicon in self.lexicons if lexicon.language == language), None)


def company_phrase(company: str | None) -> str:
    return company if company else "the company"


def role_phrase(role: str | None) -> str:
    return f"the {role} role" if role else "this role"


_FILLED_POSSESSIVE = re.compile(r"\{([^{}]*)\}(['\u2019]s\b)?")


def possessive(name: str) -> str:
    """ "Acme's", but "Brightline Electrical Contractors'": a name ending in s takes the apostrophe alone."""
    return f"{name}'" if name[-1:] in ("s", "S") else f"{name}'s"


def fill_placeholders(template: str, company: str | None, role: str | None) -> str:
    """Fill placeholders in one pass, so braces inside the person's own words stay literal."""
    values = {"company": company_phrase(company), "role": role_phrase(role)}

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None:
            return match.group(0)
        return possessive(value) if match.group(2) else value

    filled = _FILLED_POSSESSIVE.sub(fill, template)
    # A sentence that opens with our own neutral wording ("the company") gets a capital;
    # a company name the person typed (say "eBay") is left exactly as written.
    if template.startswith("{role}") or (template.startswith("{company}") and not company):
        filled = filled[:1].upper() + filled[1:]
    return filled
