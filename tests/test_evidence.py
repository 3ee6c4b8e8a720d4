"""The evidence page (docs/evidence.md) and the Params sources agree; nothing cites files outside.

Fast: no simulation runs. The real page must pass the same check `dealersim docs --check` runs,
and each kind of disagreement must be caught.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from dealersim.cli import main
from dealersim.model.params import field_specs, spec
from dealersim.outputs.docs import (
    EST_END,
    EST_START,
    cited_by,
    evidence_entries,
    evidence_problems,
    link_evidence,
    params_block,
    with_evidence,
)

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "evidence.md"


@pytest.fixture(scope="module")
def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def test_real_page_passes(page):
    assert evidence_problems(page) == []
    assert with_evidence(page) == page, "generated parts are stale: run 'dealersim docs'"


def test_every_entry_has_the_facts(page):
    entries = evidence_entries(page)
    assert len(entries) >= 30
    for e in entries:
        body = page[e.start:e.end]
        for label in ("**Publisher:**", "**Title:**", "**Year:**", "**Link:**",
                      "**What it says:**", "**Grade:**", "**Used by:**"):
            assert label in body, f"{e.slug}: no {label} line"
        link = re.search(r"\*\*Link:\*\* (.*)", body).group(1)
        assert link.startswith("<http") or "no " in link, f"{e.slug}: a link or why there is none"
        grade = re.search(r"\*\*Grade:\*\* ([ABCU](?:/[ABCU])?) \(", body)
        assert grade, f"{e.slug}: the grade is a letter followed by why"


def test_a_missing_entry_fails(page):
    slug = "belkins-2025-cold-calling"
    assert slug in cited_by()
    broken = page.replace("{#" + slug + "}", "{#belkins-cold-calls}")
    problems = evidence_problems(broken)
    assert any(f"'evidence:{slug}' is not an entry" in p and "cold_connect_rate" in p
               for p in problems), problems


def test_an_unused_entry_must_say_why(page):
    extra = ("\n### An unused source {#unused-source}\n\n- **Publisher:** x\n"
             "- **Used by:** none.\n\n")
    head, tail = page.split("## Managed services", 1)
    problems = evidence_problems(head + extra + "## Managed services" + tail)
    assert problems == ["entry 'unused-source' is used by no parameter and does not say why it "
                        "is there (add a '- **Why it is here:**' line)"]
    why = extra.replace("none.\n", "none.\n- **Why it is here:** context.\n")
    assert evidence_problems(head + why + "## Managed services" + tail) == []


def test_duplicate_and_malformed_ids_fail(page):
    assert any("appears 2 times" in p for p in evidence_problems(page + page[page.index("### "):]))
    assert any("malformed id" in p
               for p in evidence_problems(page + "\n### Bad {#Bad_Id}\n"))


@pytest.mark.parametrize("source", [
    "shared/domain/numbers.md: 24-60 months [C]",
    "see numbers.md, row 3 [C]",
    "evidence:dealer-lease-pages; docs/notes.txt [C]",
])
def test_a_source_naming_a_file_fails(page, source):
    specs = [dataclasses.replace(s, source=source) if s.name == "lease_term_months" else s
             for s in field_specs()]
    problems = evidence_problems(page, specs)
    assert any(p.startswith("lease_term_months: its source names a file") for p in problems)


@pytest.mark.parametrize("source", [
    "dealer FAQ pages [C]",                      # neither form
    "estimate: a guess [C]",                     # an estimate is graded U
    "evidence:dealer-lease-pages 24-60 months [C]",  # no '; ' after the id
])
def test_a_source_must_have_the_form(page, source):
    specs = [dataclasses.replace(s, source=source) if s.name == "lease_term_months" else s
             for s in field_specs()]
    assert any(p.startswith("lease_term_months: its source")
               for p in evidence_problems(page, specs))


def test_grade_is_still_parsed():
    assert spec("cold_connect_rate").grade == "B"
    assert spec("managed_stickiness").grade == "U"  # [B/U]: the worse grade
    assert spec("mit_seats_sigma").grade == "U"


def test_used_by_and_estimates_are_generated(page):
    stale = page.replace("- **Used by:** `cold_connect_rate`", "- **Used by:** `hw_margin`", 1)
    assert stale != page and with_evidence(stale) == page
    head, rest = page.split(EST_START, 1)
    _, tail = rest.split(EST_END, 1)
    assert with_evidence(head + EST_START + "\nstale\n" + EST_END + tail) == page
    estimated = [s.name for s in field_specs() if s.grade == "U"]
    block = page[page.index(EST_START):page.index(EST_END)]
    assert all(f"`{name}`" in block for name in estimated)
    assert f"{len(estimated)} of the {len(field_specs())} parameters are estimates" in block


def test_parameter_table_links_the_entries():
    block = params_block()
    assert "[evidence:belkins-2025-cold-calling](evidence.md#belkins-2025-cold-calling)" in block
    assert link_evidence("evidence:a-b; x") == "[evidence:a-b](evidence.md#a-b); x"


def test_docs_check_fails_on_a_missing_entry(tmp_path, page, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "evidence.md").write_text(page.replace("{#implisit-2014-referrals}", ""))
    assert main(["docs", "--path", str(docs / "model.md")]) == 1
    err = capsys.readouterr().err
    assert "'evidence:implisit-2014-referrals' is not an entry" in err


def test_no_file_in_the_package_names_shared():
    # as `grep -rn "shared/" dealersim`: every file, whatever its kind
    hits = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "dealersim").rglob("*"))
            if p.is_file() and b"shared/" in p.read_bytes()]
    assert hits == []
