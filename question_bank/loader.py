"""Load and check the YAML question bank.

Every problem is reported with the file, the line, the question id and the field, so a
broken bank fails at start-up with a message a volunteer editor can act on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from question_bank.model import (
    PLACEHOLDER_PATTERN,
    PLACEHOLDERS,
    TOPICS,
    Bank,
    Homework,
    Lexicon,
    Question,
    Topic,
)
from question_bank.priorities import ENGLISH, SNOWBALL_NAMES
from question_bank.similarity import content_words, near_duplicates

BANK_DIR = Path(__file__).resolve().parent
SCHEMA_PATH = BANK_DIR / "schema.json"


@dataclass(frozen=True)
class BankProblem:
    file: str
    line: int | None
    question_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        parts = [where]
        if self.question_id:
            parts.append(self.question_id)
        if self.field:
            parts.append(self.field)
        return ": ".join([*parts, self.message])


class BankError(Exception):
    """The bank cannot be used. `problems` lists every one found."""

    def __init__(self, problems: list[BankProblem]) -> None:
        self.problems = problems
        count = len(problems)
        head = f"question bank has {count} problem{'s' if count != 1 else ''}"
        super().__init__("\n".join([head, *(f"  {p}" for p in problems)]))


@cache
def question_file_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# libyaml's loader, where PyYAML was built with it, reads the bank several times faster; its nodes
# carry the same line numbers.
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Return the data and its node tree (the node tree knows line numbers)."""
    text = path.read_text(encoding="utf-8")
    loader = _SAFE_LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


def _line_of(node: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    """The 1-based line of the value at `path` inside `node`, as close as can be found."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            match = node.value[key] if key < len(node.value) else None
        else:
            match = None
        if match is None:
            break
        node = match
        line = node.start_mark.line + 1
    return line


def _question_id(data: Any, index: int) -> str | None:
    try:
        qid = data["questions"][index]["id"]
    except (KeyError, IndexError, TypeError):
        return None
    return qid if isinstance(qid, str) else None


def _schema_problems(name: str, data: Any, node: yaml.Node | None) -> Iterator[BankProblem]:
    validator = jsonschema.Draft202012Validator(question_file_schema())
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        path = list(error.absolute_path)
        qid = None
        field = ".".join(str(p) for p in path) or None
        if len(path) >= 2 and path[0] == "questions" and isinstance(path[1], int):
            qid = _question_id(data, path[1])
            field = ".".join(str(p) for p in path[2:]) or None
        yield BankProblem(name, _line_of(node, path), qid, field, error.message)


def _content_problems(name: str, data: dict[str, Any], node: yaml.Node | None) -> Iterator[BankProblem]:
    """Checks JSON Schema cannot express: placeholders, the file's topic first, id prefix."""
    topic = data["topic"]
    for index, item in enumerate(data["questions"]):
        qid = item["id"]

        def problem(field: str, message: str, i: int = index, q: str = qid) -> BankProblem:
            return BankProblem(name, _line_of(node, ["questions", i, field]), q, field, message)

        if item["topics"][0] != topic:
            yield problem("topics", f"the first topic must be the file's topic {topic!r}")
        if not qid.startswith(topic + "-"):
            yield problem("id", f"the id must start with {topic + '-'!r}")
        for field in ("text", "why", "listen_for"):
            for unknown in _unknown_placeholders(item[field]):
                yield problem(field, f"unknown placeholder {{{unknown}}}; use {{company}} or {{role}}")
        for follow_up in item.get("follow_ups", []):
            for unknown in _unknown_placeholders(follow_up):
                yield problem("follow_ups", f"unknown placeholder {{{unknown}}}")
        if item["text"].count("{") != item["text"].count("}"):
            yield problem("text", "unbalanced braces")
        if not reads_as_question(item["text"]):
            yield problem("text", "does not read as a question (start the last sentence with how, what, is, do, ...)")
        for follow_up in item.get("follow_ups", []):
            if not reads_as_question(follow_up):
                yield problem("follow_ups", f"{follow_up!r} does not read as a question")
    for i, entry in enumerate(data.get("homework", [])):
        line = entry["text"] if isinstance(entry, dict) else entry
        for unknown in _unknown_placeholders(line):
            yield BankProblem(
                name, _line_of(node, ["homework", i]), None, "homework", f"unknown placeholder {{{unknown}}}"
            )


_QUESTION_WORDS = frozenset(
    (
        "how", "what", "when", "where", "who", "whom", "whose", "which", "why", "is", "are", "am", "do",
        "does", "did", "can", "could", "would", "will", "should", "shall", "has", "have", "had", "was",
        "were", "may", "might", "any",
    )
)  # fmt: skip


def reads_as_question(text: str) -> bool:
    """Ends with '?' and its last sentence asks something (rules out "Tell me about X?")."""
    if not text.rstrip().endswith("?"):
        return False
    last = re.split(r"(?<=[.!?:;])\s+", text.strip())[-1]
    words = {w.strip(",'\"").lower().split("'")[0] for w in last.split()}
    return bool(words & _QUESTION_WORDS)


def _near_duplicate_problems(questions: list[Question]) -> Iterator[BankProblem]:
    words = [content_words(q.text) for q in questions]
    for i, first in enumerate(questions):
        for j in range(i + 1, len(questions)):
            if near_duplicates(words[i], words[j]):
                second = questions[j]
                file, line = second.source.rsplit(":", 1)
                yield BankProblem(
                    file, int(line), second.id, "text",
                    f"nearly the same as {first.id} ({first.source}); say something different or drop one",
                )  # fmt: skip


def _unknown_placeholders(text: str) -> list[str]:
    return [m for m in PLACEHOLDER_PATTERN.findall(text) if m not in PLACEHOLDERS]


def _read(path: Path, problems: list[BankProblem]) -> tuple[Any, yaml.Node | None] | None:
    name = _display_path(path)
    try:
        return _parse_yaml(path)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problems.append(BankProblem(name, line, None, None, f"YAML syntax error: {exc.problem}"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(BankProblem(name, None, None, None, f"cannot read: {exc}"))
    return None


def _homework(entry: str | dict[str, Any]) -> Homework:
    if isinstance(entry, str):
        return Homework(entry)
    return Homework(
        entry["text"],
        tuple(entry.get("company_types", ())),
        tuple(entry.get("role_families", ())),
        tuple(entry.get("settings", ())),
    )


def _load_question_file(path: Path, problems: list[BankProblem]) -> tuple[str, list[Question], list[Homework]]:
    """Return (topic, questions, homework) of one file, adding any problems found."""
    name = _display_path(path)
    parsed = _read(path, problems)
    if parsed is None:
        return "", [], []
    data, node = parsed
    found = list(_schema_problems(name, data, node))
    if found:
        problems.extend(found)
        return "", [], []
    content = list(_content_problems(name, data, node))
    problems.extend(content)
    questions = [
        Question(
            id=item["id"],
            text=item["text"],
            purpose=item["purpose"],
            topics=tuple(item["topics"]),
            stages=tuple(item["stages"]),
            why=item["why"].strip(),
            listen_for=item["listen_for"].strip(),
            company_types=tuple(item.get("company_types", ())),
            role_families=tuple(item.get("role_families", ())),
            sensitivity=item.get("sensitivity", "low"),
            red_flags=tuple(item.get("red_flags", ())),
            follow_ups=tuple(item.get("follow_ups", ())),
            subject=item.get("subject", ""),
            settings=tuple(item.get("settings", ())),
            levels=tuple(item.get("levels", ())),
            alike=tuple(item.get("alike", ())),
            close=bool(item.get("close", False)),
            source=f"{name}:{_line_of(node, ['questions', i])}",
        )
        for i, item in enumerate(data["questions"])
    ]
    return data["topic"], questions, [_homework(entry) for entry in data.get("homework", [])]


def _load_topics(path: Path, homework: dict[str, list[Homework]], problems: list[BankProblem]) -> dict[str, Topic]:
    name = _display_path(path)
    parsed = _read(path, problems)
    if parsed is None:
        return {}
    data, node = parsed
    entries = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        problems.append(BankProblem(name, 1, None, "topics", "expected a mapping of topic ids"))
        return {}
    topics: dict[str, Topic] = {}
    for topic_id in TOPICS:
        entry = entries.get(topic_id)
        if not isinstance(entry, dict) or not isinstance(entry.get("label"), str):
            problems.append(BankProblem(name, _line_of(node, ["topics"]), None, topic_id, "needs a label"))
            continue
        topics[topic_id] = Topic(
            topic_id, entry["label"], str(entry.get("hint", "")), tuple(homework.get(topic_id, ()))
        )
    for unknown in set(entries) - set(TOPICS):
        problems.append(BankProblem(name, _line_of(node, ["topics", unknown]), None, unknown, "unknown topic id"))
    return topics


_LEXICON_LISTS = ("neutral", "dismissals", "clause_breaks", "hearsay")


def _load_lexicon(path: Path, problems: list[BankProblem]) -> Lexicon | None:
    name = _display_path(path)
    parsed = _read(path, problems)
    if parsed is None:
        return None
    data, node = parsed
    entries = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        problems.append(BankProblem(name, 1, None, "topics", "expected a mapping of topic ids"))
        return None
    language = data.get("language")
    if language != path.stem or language not in SNOWBALL_NAMES:
        problems.append(
            BankProblem(
                name,
                _line_of(node, ["language"]),
                None,
                "language",
                f"expected {path.stem!r}, the file's name, one of {', '.join(SNOWBALL_NAMES)}",
            )
        )
        return None

    def strings(value: object, where: list[str], field_name: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(BankProblem(name, _line_of(node, where), None, field_name, "expected a list of strings"))
            return ()
        return tuple(value)

    phrases: dict[str, tuple[str, ...]] = {}
    misspellings: dict[str, tuple[str, ...]] = {}
    for topic_id, entry in entries.items():
        if topic_id not in TOPICS:
            problems.append(
                BankProblem(name, _line_of(node, ["topics", topic_id]), None, str(topic_id), "unknown topic id")
            )
            continue
        phrases[topic_id], misspellings[topic_id] = (
            strings((entry or {}).get(key, []), ["topics", topic_id, key], f"{topic_id}.{key}")
            for key in ("phrases", "misspellings")
        )
    lists = {key: strings(data.get(key, []), [key], key) for key in _LEXICON_LISTS}
    note = data.get("questions_in_english", "")
    if not isinstance(note, str) or (language != ENGLISH and not note.strip()):
        problems.append(
            BankProblem(name, _line_of(node, ["questions_in_english"]), None, "questions_in_english", "expected text")
        )
        note = ""
    return Lexicon(
        phrases,
        lists["neutral"],
        language,
        lists["dismissals"],
        lists["clause_breaks"],
        note,
        misspellings,
        lists["hearsay"],
    )


def _load_lexicons(directory: Path, problems: list[BankProblem]) -> tuple[Lexicon, ...]:
    loaded = [_load_lexicon(path, problems) for path in sorted(directory.glob("*.yaml"))]
    lexicons = sorted((lexicon for lexicon in loaded if lexicon), key=lambda lexicon: lexicon.language != ENGLISH)
    if not any(lexicon.language == ENGLISH for lexicon in lexicons):
        problems.append(BankProblem(_display_path(directory / "en.yaml"), None, None, None, "no English lexicon"))
    return tuple(lexicons)


def load_bank(directory: Path = BANK_DIR) -> Bank:
    """Read every file of the bank; raise BankError listing all problems found."""
    problems: list[BankProblem] = []
    questions: list[Question] = []
    homework: dict[str, list[Homework]] = {}
    files = sorted((directory / "questions").glob("*.yaml"))
    if not files:
        problems.append(BankProblem(_display_path(directory / "questions"), None, None, None, "no question files"))
    for path in files:
        topic, found, notes = _load_question_file(path, problems)
        if topic:
            homework.setdefault(topic, []).extend(notes)
        questions.extend(found)
    seen: dict[str, Question] = {}
    for question in questions:
        if question.id in seen:
            problems.append(
                BankProblem(
                    question.source.rsplit(":", 1)[0],
                    int(question.source.rsplit(":", 1)[1]),
                    question.id,
                    "id",
                    f"duplicate id, first defined at {seen[question.id].source}",
                )
            )
        else:
            seen[question.id] = question
    problems.extend(_near_duplicate_problems(list(seen.values())))
    for question in seen.values():
        for other in question.alike:
            if other not in seen:
                file, line = question.source.rsplit(":", 1)
                problems.append(BankProblem(file, int(line), question.id, "alike", f"unknown question id {other!r}"))
    topics = _load_topics(directory / "topics.yaml", homework, problems)
    lexicons = _load_lexicons(directory / "lexicon", problems)
    if problems:
        raise BankError(problems)
    return Bank(tuple(questions), topics, lexicons)


@cache
def default_bank() -> Bank:
    """The bank shipped with revq, loaded once per process."""
    return load_bank()
