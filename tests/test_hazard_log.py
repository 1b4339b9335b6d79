"""The hazard log names the tests that show its controls: every one of them must exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "docs" / "safety" / "hazard-log.md"


def test_every_test_named_in_the_hazard_log_exists():
    text = LOG.read_text()
    missing, found = [], 0
    current_file = None
    # "tests/x.py::name" sets the file; a following "::name" refers to the same file.
    for match in re.finditer(r"(tests/[\w/]+\.py)?::(test_\w+)", text):
        current_file = match.group(1) or current_file
        found += 1
        source = (ROOT / current_file).read_text()
        if not re.search(rf"^def {match.group(2)}\(", source, re.MULTILINE):
            missing.append(f"{current_file}::{match.group(2)}")
    assert missing == []
    assert found > 30


def test_every_hazard_the_issue_names_is_in_the_log():
    text = LOG.read_text().lower()
    for hazard in (
        "lost to follow-up",
        "result not actioned",
        "wrong patient",
        "lost update",
        "restaging never completed",
        "wrong laterality",
        "data breach",
        "misleading restaging status",
        "completed by default",
        "implausible date",
        "wrong-patient import",
        "upload exhaustion",
        "recurrence never discussed at mdt",
        "task lost or never done",
        "wrong or altered letter",
        "pifu ends unnoticed",
    ):
        assert hazard in text, hazard
