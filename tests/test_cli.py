"""`revq` as people run it: real subprocesses, real SQLite files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from question_bank.model import PURPOSES, STAGES, TOPICS

REPO = Path(__file__).resolve().parent.parent
REVQ = [sys.executable, "-m", "bot.cli"]


def revq(*args: str, stdin: str | bytes = b"", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "REVQ_LOG_LEVEL": "WARNING", **(env or {})}
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run([*REVQ, *args], input=data, capture_output=True, env=full_env, cwd=REPO, timeout=60)
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    )


@pytest.fixture
def db(tmp_path: Path) -> dict[str, str]:
    return {"REVQ_DB": str(tmp_path / "revq.db")}


def test_scripted_chat_runs_a_whole_conversation(db: dict[str, str]) -> None:
    script = "Acme\nData Engineer\n2\nskip\n10, 7\nThey opened a Berlin office\nmore\nexport\n"
    done = revq("chat", stdin=script, env=db)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "[1/6] Which company" in out and "[6/6]" in out
    assert "Questions to ask Acme (Data Engineer, hiring manager interview)" in out
    assert "Follow up with:" in out
    assert "Why ask:" in out and "Listen for:" in out and "Before the interview, look up:" in out
    assert "More questions" in out
    assert out.count("Open with your research") >= 1 and "About your notes" in out and "Berlin office" not in out
    assert "Traceback" not in out + done.stderr
    assert "> " not in out.splitlines()[0]  # not a terminal: no prompt decoration


def test_chat_resumes_after_the_process_stops(db: dict[str, str]) -> None:
    first = revq("chat", stdin="Globex\nNurse\n", env=db)
    assert "[3/6] Who will you be talking to?" in first.stdout
    second = revq("chat", stdin="1\n", env=db)
    assert "Welcome back" in second.stdout
    # continues from the last answer: stage is asked again and then company type follows
    assert "[3/6] Who will you be talking to?" in second.stdout
    assert "[4/6] What kind of employer" in second.stdout
    third = revq("chat", "--new", stdin="", env=db)
    assert "[1/6] Which company" in third.stdout


def test_chat_survives_binary_and_hostile_input(db: dict[str, str]) -> None:
    hostile = b"\xff\xfe\x00garbage\n" + b"{__class__} <!channel> @everyone\n" + b"x" * 5000 + b"\n/nope\n\n"
    done = revq("chat", stdin=hostile, env=db)
    assert done.returncode == 0
    assert "Traceback" not in done.stdout + done.stderr
    assert "first 2,000 characters" in done.stdout
    assert "don't know the command" in done.stdout
    assert "didn't get any text" in done.stdout


def test_chat_with_bad_setting_exits_2_with_one_line(db: dict[str, str]) -> None:
    done = revq("chat", env={**db, "REVQ_SESSION_TTL_DAYS": "forever"})
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "REVQ_SESSION_TTL_DAYS" in done.stderr


def test_ask_json_contract() -> None:
    done = revq(
        "ask", "--company", "Acme", "--role", "Data Engineer", "--stage", "hiring_manager",
        "--priorities", "remote work and a learning budget", "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {
        "company", "role", "stage", "company_type", "setting", "level", "priorities", "questions", "homework",
    }  # fmt: skip
    assert data["setting"] == "hybrid"  # a Data Engineer: office or hybrid, read from the title
    assert data["company"] == "Acme" and data["role"] == "Data Engineer"
    assert data["stage"] == "hiring_manager" and data["company_type"] is None
    assert data["priorities"] == ["remote", "learning"]
    assert len(data["questions"]) == 6
    for q in data["questions"]:
        assert set(q) == {"id", "text", "purpose", "topics", "stages", "why", "listen_for"}
        assert q["purpose"] in PURPOSES and set(q["topics"]) <= set(TOPICS)
        assert "hiring_manager" in q["stages"] and set(q["stages"]) <= set(STAGES)
        assert "{" not in q["text"]
    assert data["questions"][0]["topics"][0] == "remote" or data["questions"][1]["topics"][0] == "remote"
    assert 3 <= len(data["homework"]) <= 5 and all(isinstance(h, str) for h in data["homework"])


def test_ask_setting_and_level_flags_override_the_title() -> None:
    done = revq("ask", "--company", "Acme", "--role", "Data Engineer", "--setting", "field", "--level", "intern",
                "--priorities", "remote work", "--format", "json")  # fmt: skip
    data = json.loads(done.stdout)
    assert (data["setting"], data["level"]) == ("field", "intern")
    vp = json.loads(revq("ask", "--company", "Acme", "--role", "VP of Sales", "--priorities", "team",
                         "--format", "json").stdout)  # fmt: skip
    assert vp["level"] == "executive" and vp["setting"] is None


def test_ask_json_with_nothing_optional() -> None:
    done = revq("ask", "--company", "{__class__}", "--count", "3", "--format", "json")
    data = json.loads(done.stdout)
    assert data["company"] == "{__class__}" and data["role"] is None and data["stage"] is None
    assert data["priorities"] == [] and len(data["questions"]) == 3
    assert {q["purpose"] for q in data["questions"]} == set(PURPOSES)


def test_ask_text_and_markdown_formats() -> None:
    text = revq("ask", "--company", "Acme", "--priorities", "mentors")
    assert text.returncode == 0 and "Questions to ask Acme" in text.stdout and "Why ask:" in text.stdout
    md = revq("ask", "--company", "Acme *Corp* <!channel>", "--format", "markdown")
    assert md.stdout.startswith("# Questions to ask Acme \\*Corp\\* \\<!channel\\>")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--stage", "boss"], "--stage must be one of: recruiter, hiring_manager, team, executive, offer"),
        (["--count", "0"], "--count must be a whole number from 1 to 20"),
        (["--company-type", "cult"], "--company-type must be one of: startup, scaleup"),
        (["--format", "pdf"], "invalid choice: 'pdf'"),
    ],
)
def test_ask_bad_values_exit_2_with_one_clear_line(args: list[str], needle: str) -> None:
    done = revq("ask", "--company", "Acme", *args)
    assert done.returncode == 2
    assert needle in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""


@pytest.mark.parametrize("priorities", ["asdfgh qwerty", "1, 2", "ما هو الراتب", "这份工作的工资是多少", "x" * 10_000])
def test_ask_priorities_it_cannot_read_give_a_broad_list_and_one_note(priorities: str) -> None:
    done = revq("ask", "--company", "Acme", "--priorities", priorities, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["questions"]
    assert "couldn't tell which topics" in done.stderr and "Spanish" in done.stderr and "broad" in done.stderr
    assert "Traceback" not in done.stderr


def test_ask_leaves_out_an_unusable_job_title_with_a_note() -> None:
    done = revq("ask", "--company", "Acme", "--role", "the", "--format", "json")
    assert done.returncode == 0 and json.loads(done.stdout)["role"] is None
    assert done.stderr.strip() == "revq ask: I couldn't use what you typed as the job title, so I left it out."


def test_help_describes_every_command() -> None:
    done = revq("--help")
    assert done.returncode == 0
    for word in ("chat", "ask", "bank", "REVQ_DB", "REVQ_STORE"):
        assert word in done.stdout


def test_bank_validate_and_stats_on_the_shipped_bank() -> None:
    assert revq("bank", "validate").returncode == 0
    stats = revq("bank", "stats")
    assert stats.returncode == 0 and "per topic:" in stats.stdout and "per company type:" in stats.stdout


def test_bank_validate_reports_file_line_id_and_field(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    shutil.copytree(REPO / "question_bank", bank, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    target = bank / "questions" / "remote.yaml"
    lines = target.read_text().splitlines()
    stage_line = next(i for i, line in enumerate(lines) if line.strip().startswith("stages:"))
    lines[stage_line] = lines[stage_line].split(":")[0] + ": [anytime]"
    target.write_text("\n".join(lines) + "\n")
    done = revq("bank", "validate", env={"REVQ_BANK": str(bank)})
    assert done.returncode == 1
    assert f"remote.yaml:{stage_line + 1}: remote-" in done.stderr
    assert "stages.0: 'anytime' is not one of" in done.stderr
    chat = revq("chat", env={"REVQ_BANK": str(bank), "REVQ_STORE": "memory"})
    assert chat.returncode == 1 and "remote.yaml" in chat.stderr and "Traceback" not in chat.stderr


def test_chat_in_a_real_terminal_shows_prompts_and_numbered_choices(db: dict[str, str]) -> None:
    import pty
    import select
    import time

    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen(
        [*REVQ, "chat"], stdin=child_fd, stdout=child_fd, stderr=child_fd, cwd=REPO,
        env={**os.environ, **db, "REVQ_LOG_LEVEL": "WARNING"},
    )  # fmt: skip
    os.close(child_fd)
    seen = b""

    def read_until(needle: bytes, timeout: float = 20.0) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while needle not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([main_fd], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(main_fd, 65536)
                except OSError:
                    break
        assert needle in seen, seen.decode("utf-8", "replace")[-2000:]

    try:
        read_until(b"> ")
        os.write(main_fd, b"Acme\n")
        read_until(b"[2/6]")
        os.write(main_fd, b"skip\n")
        read_until(b"Type a number or say skip.")
        os.write(main_fd, b"quit\n")
        read_until(b"Your answers are saved")
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()
        os.close(main_fd)


def test_ask_count_is_exact_even_with_notes() -> None:
    for count in ("2", "4"):
        done = revq("ask", "--company", "Acme", "--notes", "new CEO", "--count", count, "--format", "json")
        questions = json.loads(done.stdout)["questions"]
        assert len(questions) == int(count)
        assert (questions[0]["id"] == "notes-opener") == (count == "4")


def test_ask_with_only_a_negation_gives_a_list_not_an_error() -> None:
    done = revq("ask", "--company", "Acme", "--priorities", "I don't care about salary", "--format", "json")
    assert done.returncode == 0 and "leave out pay" in done.stderr
    data = json.loads(done.stdout)
    assert data["priorities"] == [] and data["questions"]
    assert not any(q["topics"][0] == "compensation" for q in data["questions"])


def test_text_and_markdown_keep_the_ranked_order_with_each_questions_purpose() -> None:
    args = ("ask", "--company", "Acme", "--role", "Staff Nurse", "--stage", "hiring_manager",
            "--priorities", "training then a mentor")  # fmt: skip
    ids = [q["id"] for q in json.loads(revq(*args, "--format", "json").stdout)["questions"]]
    texts = {q["id"]: q["text"] for q in json.loads(revq(*args, "--format", "json").stdout)["questions"]}
    for fmt in ("text", "markdown"):
        out = revq(*args, "--format", fmt).stdout
        positions = [out.index(texts[i][:40]) for i in ids]
        assert positions == sorted(positions), fmt  # best first, as in the JSON
        assert out.count("About ") >= len(ids) - 1  # a purpose over each question (the close has its own)


def test_prompts_from_the_shell_add_list_preview_and_pause(db: dict[str, str], tmp_path: Path) -> None:
    added = revq("prompts", "add", "--platform", "slack", "--channel", "C0123ABC", "weekly", "monday", "09:00",
                 "Europe/Berlin", env=db)  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "#C0123ABC gets a question of the week every Monday at 09:00 Europe/Berlin" in added.stdout
    assert revq("prompts", "topic", "--platform", "slack", "--channel", "C0123ABC", "salary", env=db).returncode == 0
    listed = revq("prompts", "list", "--platform", "slack", env=db)
    assert "#C0123ABC: every Monday at 09:00 Europe/Berlin, Pay" in listed.stdout
    preview = revq("prompts", "preview", "--platform", "slack", "--channel", "C0123ABC", env=db)
    assert "Question of the week" in preview.stdout and "Why ask it:" in preview.stdout
    assert revq("prompts", "pause", "--platform", "slack", "--channel", "C0123ABC", env=db).returncode == 0
    assert "paused" in revq("prompts", "list", "--platform", "slack", env=db).stdout
    assert revq("prompts", "list", "--platform", "discord", env=db).stdout.strip() == "No channel has prompts yet."


@pytest.mark.parametrize(
    ("words", "needle"),
    [
        (["add", "--channel", "C0000001", "weekly", "monday", "09:00", "Mars/Olympus"], "not a time zone"),
        (["add", "--channel", "C0000001", "daily", "25:00", "UTC"], "'25:00' is not a time"),
        (["add", "--channel", "C0000001", "weekly", "funday", "09:00", "UTC"], "'funday' is not a day"),
        (["add", "weekly", "monday", "09:00", "UTC"], "name the channel"),
        (["resume", "--channel", "C0000404"], "#C0000404 has no prompts"),
        (["add", "--channel", "C0000001", "weekly", "--bogus"], "--bogus"),
        (["add", "--channel", "general", "daily", "09:00", "UTC"], "--channel must be a slack channel id"),
    ],
)
def test_prompts_bad_input_exits_2_with_one_line_and_changes_nothing(
    db: dict[str, str], words: list[str], needle: str
) -> None:
    revq("prompts", "add", "--platform", "slack", "--channel", "C0000001", "daily", "08:00", "UTC", env=db)
    done = revq("prompts", *words[:1], "--platform", "slack", *words[1:], env=db)
    assert done.returncode == 2 and needle in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "every day at 08:00 UTC" in revq("prompts", "list", "--platform", "slack", env=db).stdout
