"""The question bank: its content rules and the loader's error reports."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from bot.engine.tailor import role_family
from question_bank import BankError, default_bank, load_bank
from question_bank.loader import BANK_DIR, SCHEMA_PATH
from question_bank.model import (
    COMPANY_TYPES,
    PURPOSES,
    ROLE_FAMILIES,
    STAGES,
    TOPICS,
    Bank,
    fill_placeholders,
)
from question_bank.priorities import stemmed_words


@pytest.fixture
def bank_copy(tmp_path: Path) -> Path:
    target = tmp_path / "bank"
    shutil.copytree(BANK_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def append_to(path: Path, entry: str) -> None:
    path.write_text(path.read_text().rstrip("\n") + "\n" + entry)


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(BankError) as caught:
        load_bank(directory)
    return [str(p) for p in caught.value.problems]


def test_shipped_bank_loads_with_every_topic_and_purpose(bank: Bank) -> None:
    assert len(bank.questions) >= 40
    primary = Counter(q.topics[0] for q in bank.questions)
    assert set(primary) == set(TOPICS)
    assert set(Counter(q.purpose for q in bank.questions)) == set(PURPOSES)
    assert all(bank.topics[t].label for t in TOPICS)


def test_the_article_topics_are_covered(bank: Bank) -> None:
    # training and tuition, telework, promotion track, mentor/peer programs, why the job is open,
    # and who you report to: each has several questions of its own
    primary = Counter(q.topics[0] for q in bank.questions)
    for topic in ("learning", "remote", "growth", "mentorship", "vacancy", "manager"):
        assert primary[topic] >= 5, topic
    texts = " ".join(q.text.lower() for q in bank.questions)
    for alternatives in (
        ("tuition", "help pay for"),
        ("report to",),
        ("mentor",),
        ("peer",),
        ("promot",),
        ("position been open", "open right now"),
    ):
        assert any(a in texts for a in alternatives), alternatives


def test_schema_and_model_agree_on_every_allowed_value() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    props = schema["properties"]["questions"]["items"]["properties"]
    assert props["topics"]["items"]["enum"] == list(TOPICS)
    assert props["stages"]["items"]["enum"] == list(STAGES)
    assert props["purpose"]["enum"] == list(PURPOSES)
    assert props["company_types"]["items"]["enum"] == list(COMPANY_TYPES)
    assert props["role_families"]["items"]["enum"] == list(ROLE_FAMILIES)
    assert schema["properties"]["topic"]["enum"] == list(TOPICS)


def test_every_question_reads_well_with_and_without_company_and_role(bank: Bank) -> None:
    for q in bank.questions:
        for company, role in (("Acme", "Data Engineer"), (None, None)):
            text = fill_placeholders(q.text, company, role)
            assert "{" not in text and "}" not in text, q.id
            assert text[:1].isupper() or text[:1].isdigit(), (q.id, text)
            assert text.endswith("?"), q.id
            assert "None" not in text, q.id


def test_placeholders_are_filled_in_one_pass() -> None:
    assert fill_placeholders("Why {company}?", "{role} {__class__}", "X") == "Why {role} {__class__}?"
    assert fill_placeholders("{company} grows?", None, None) == "The company grows?"
    assert fill_placeholders("{company} grows?", "eBay", None) == "eBay grows?"
    assert fill_placeholders("In {role}?", None, "Nurse") == "In the Nurse role?"


def test_yaml_syntax_error_names_file_and_line(bank_copy: Path) -> None:
    target = bank_copy / "questions" / "team.yaml"
    lines = target.read_text().splitlines()
    lines.insert(5, "  - id: [unclosed")
    target.write_text("\n".join(lines))
    found = problems_of(bank_copy)
    assert any("team.yaml:" in p and "YAML syntax error" in p for p in found), found


def test_wrong_type_names_file_line_id_and_field(bank_copy: Path) -> None:
    target = bank_copy / "questions" / "learning.yaml"
    text = target.read_text()
    first_why = text.index("    why:")
    line_no = text[:first_why].count("\n") + 1
    end = text.index("\n", first_why)
    target.write_text(text[:first_why] + "    why: 42" + text[end:])
    found = problems_of(bank_copy)
    assert any(p.startswith(f"{target}:{line_no}: learning-") and ": why: 42 is not of type 'string'" in p
               for p in found), found  # fmt: skip


def test_duplicate_id_across_files_names_both_places(bank_copy: Path, bank: Bank) -> None:
    remote_id = next(q.id for q in bank.questions if q.topics[0] == "remote")
    target = bank_copy / "questions" / "remote.yaml"
    append_to(
        target,
        f"  - id: {remote_id}\n    text: Is this a copy?\n    purpose: duties\n    topics: [remote]\n"
        "    stages: [team]\n    why: A test of duplicate ids only.\n    listen_for: Nothing at all here.\n",
    )
    found = problems_of(bank_copy)
    assert any(remote_id in p and "duplicate id, first defined at" in p for p in found), found


def test_unknown_placeholder_topic_and_missing_question_mark(bank_copy: Path) -> None:
    target = bank_copy / "questions" / "impact.yaml"
    append_to(
        target,
        "  - id: impact-broken-one\n    text: Tell me about {salary} at {company}\n    purpose: duties\n"
        "    topics: [impact, astrology]\n    stages: [team]\n    why: A test of bad values only.\n"
        "    listen_for: Nothing at all here.\n",
    )
    found = "\n".join(problems_of(bank_copy))
    assert "impact-broken-one: topics.1: 'astrology' is not one of" in found
    assert "impact-broken-one: text: 'Tell me about {salary} at {company}' does not match" in found


def test_every_problem_is_reported_not_just_the_first(bank_copy: Path) -> None:
    for name in ("role.yaml", "team.yaml"):
        path = bank_copy / "questions" / name
        path.write_text(path.read_text().replace("purpose: duties", "purpose: fun", 1))
    found = problems_of(bank_copy)
    assert any("role.yaml" in p for p in found) and any("team.yaml" in p for p in found)


def test_near_duplicate_texts_are_caught(bank_copy: Path, bank: Bank) -> None:
    original = next(q for q in bank.questions if q.topics[0] == "growth")
    target = bank_copy / "questions" / "growth.yaml"
    reworded = original.text.replace("?", ", roughly?")
    append_to(
        target,
        f"  - id: growth-near-copy\n    text: {json.dumps(reworded)}\n    purpose: personal\n"
        "    topics: [growth]\n    stages: [team]\n    why: A test of near duplicates.\n"
        "    listen_for: Nothing at all here.\n",
    )
    found = "\n".join(problems_of(bank_copy))
    assert f"growth-near-copy: text: nearly the same as {original.id}" in found


def test_text_that_is_not_a_question_is_caught(bank_copy: Path) -> None:
    target = bank_copy / "questions" / "culture.yaml"
    append_to(
        target,
        "  - id: culture-tell-me\n    text: Tell me about the culture at {company}?\n    purpose: organization\n"
        "    topics: [culture]\n    stages: [team]\n    why: A test of statements posing as questions.\n"
        "    listen_for: Nothing at all here.\n",
    )
    found = "\n".join(problems_of(bank_copy))
    assert "culture-tell-me: text: does not read as a question" in found


def test_bank_meets_the_coverage_floor(bank: Bank) -> None:
    assert len(bank.questions) >= 250
    by_topic = Counter(t for q in bank.questions for t in q.topics)
    by_stage = Counter(s for q in bank.questions for s in q.stages)
    by_purpose = Counter(q.purpose for q in bank.questions)
    assert all(by_topic[t] >= 8 for t in TOPICS), by_topic
    assert all(by_stage[s] >= 30 for s in STAGES), by_stage
    assert all(by_purpose[p] >= 50 for p in PURPOSES), by_purpose
    assert sum(bool(q.red_flags) for q in bank.questions) >= 0.8 * len(bank.questions)
    for topic in TOPICS:  # every topic has lines for anyone, besides those for some employers or jobs
        lines = bank.topics[topic].homework
        assert 2 <= len([h for h in lines if not h.company_types and not h.role_families]) <= 6, topic


def test_every_line_of_work_has_its_own_duty_questions(bank: Bank) -> None:
    for family in ROLE_FAMILIES:
        mine = [q for q in bank.questions if family in q.role_families]
        assert len(mine) >= 8, family
        assert sum(q.purpose == "duties" for q in mine) >= len(mine) // 2, family
        assert all(q.red_flags for q in mine), family


COMMON_TITLES = {
    "healthcare": ["Registered Nurse", "Pharmacist", "Paramedic", "Dental Nurse", "Midwife"],
    "social_care": ["Social Worker", "Support Worker", "Care Assistant", "Youth Worker"],
    "education": ["Primary Teacher", "Teaching Assistant", "Lecturer", "Early Years Practitioner"],
    "trades": ["Electrician", "Plumber", "Carpenter", "HVAC Technician", "Site Manager"],
    "logistics": ["HGV Driver", "Delivery Driver", "Warehouse Associate", "Forklift Operator", "Dispatcher"],
    "retail": ["Store Manager", "Sales Associate", "Cashier", "Assistant Manager"],
    "hospitality": ["Line Cook", "Sous Chef", "Bartender", "Barista", "Hotel Front Desk Agent"],
    "manufacturing": ["Production Operator", "Assembly Worker", "CNC Machinist", "Quality Inspector"],
    "public_service": ["Police Constable", "Civil Servant", "Planning Officer", "Librarian"],
    "finance": ["Accountant", "Bookkeeper", "Payroll Administrator", "Financial Controller"],
    "legal": ["Paralegal", "Solicitor", "In-house Counsel", "Compliance Officer"],
    "people": ["HR Advisor", "Recruiter", "Talent Acquisition Partner"],
    "nonprofit": ["Programme Manager", "Fundraiser", "Volunteer Coordinator"],
    "support": ["Customer Service Advisor", "Help Desk Analyst", "Customer Success Manager"],
    "engineering": ["Backend Engineer", "Software Developer", "QA Tester"],
    "data": ["Data Analyst", "Data Scientist"],
    "design": ["UX Designer", "Graphic Designer"],
    "sales": ["Account Executive", "Business Development Representative"],
    "marketing": ["Marketing Manager", "Content Writer", "SEO Specialist"],
}


def test_common_job_titles_find_their_line_of_work() -> None:
    wrong = {title: role_family(title) for family, titles in COMMON_TITLES.items() for title in titles
             if role_family(title) != family}  # fmt: skip
    assert not wrong, wrong
    assert role_family("Wizard of Light Bulb Moments") is None


def test_every_lexicon_covers_every_topic_once_and_can_say_what_does_not_matter() -> None:
    bank = default_bank()
    assert [lexicon.language for lexicon in bank.lexicons] == ["en", "de", "es", "fr", "pt"]
    for lexicon in bank.lexicons:
        assert set(lexicon.phrases) == set(TOPICS), lexicon.language
        assert lexicon.dismissals and lexicon.clause_breaks and lexicon.hearsay, lexicon.language
        assert bool(lexicon.questions_in_english) == (lexicon.language != "en")
        owner: dict[tuple[str, ...], str] = {}
        listed = [(p, t) for t, phrases in lexicon.phrases.items() for p in phrases]
        listed += [(p, t) for t, phrases in lexicon.misspellings.items() for p in phrases]
        listed += [(p, "neutral") for p in lexicon.neutral]
        for phrase, topic in listed:
            stems = tuple(
                s for part in phrase.split() for s in (["*"] if part == "*" else stemmed_words(part, lexicon.language))
            )
            assert owner.setdefault(stems, topic) == topic, (lexicon.language, phrase, topic, owner[stems])
