"""The documentation site's generated pages: the CLI reference lists every command and option,
``dealersim docs --check`` catches a stale page, and every page is in the site's navigation."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

from dealersim.cli import main
from dealersim.cli.main import build_parser
from dealersim.model import kpis
from dealersim.model.params import field_specs
from dealersim.outputs.docs import cli_page, kpis_page, parameters_page

ROOT = Path(__file__).resolve().parents[1]


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_cli_page_lists_every_command_and_option():
    parser = build_parser()
    page = cli_page(parser)
    commands = _commands(parser)
    assert len(commands) >= 10
    for name, sub in commands.items():
        assert f"\n## dealersim {name}\n" in page, name
        section = page.split(f"\n## dealersim {name}\n", 1)[1].split("\n## ", 1)[0]
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in section, (name, option)


def test_cli_page_does_not_depend_on_the_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    narrow = cli_page(build_parser())
    monkeypatch.setenv("COLUMNS", "250")
    assert cli_page(build_parser()) == narrow


def test_reference_tables_cover_the_registries():
    page = kpis_page()
    assert all(f"| `{k.name}` |" in page for k in (*kpis.SUMMARY, *kpis.SERIES, *kpis.LEDGER))
    page = parameters_page()
    assert all(f"| `{s.name}` |" in page for s in field_specs())


def test_docs_check_names_a_stale_reference_page(tmp_path, capsys):
    doc = tmp_path / "docs" / "model.md"
    doc.parent.mkdir()  # the evidence page is written by hand: docs checks the real one
    shutil.copy(ROOT / "docs" / "evidence.md", doc.parent)
    assert main(["docs", "--path", str(doc)]) == 0
    cli = tmp_path / "docs" / "reference" / "cli.md"
    assert "## dealersim compare" in cli.read_text()
    assert main(["docs", "--path", str(doc), "--check"]) == 0
    cli.write_text(cli.read_text().replace("## dealersim compare", "## dealersim compar"))
    capsys.readouterr()
    assert main(["docs", "--path", str(doc), "--check"]) == 1
    assert "cli.md" in capsys.readouterr().err
    assert main(["docs", "--path", str(doc)]) == 0
    assert main(["docs", "--path", str(doc), "--check"]) == 0


def test_the_shipped_reference_pages_are_current(capsys):
    assert main(["docs", "--path", str(ROOT / "docs" / "model.md"), "--check"]) == 0


def test_every_page_is_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r":\s+(\S+\.md)\s*$", nav, flags=re.M))
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages - listed == set()
    assert listed - pages == set()


def _hooks():
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "scripts" / "docs_hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_site_parameters_are_set_in_the_parameters_cell():
    import nbformat
    import pytest
    from mkdocs.exceptions import PluginError

    hooks = _hooks()
    for name, values in hooks.SITE_PARAMETERS.items():
        nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        new = hooks.with_values(cell.source, values)
        namespace: dict = {}
        exec(new, namespace)  # the cell is plain assignments
        assert {k: namespace[k] for k in values} == values
    with pytest.raises(PluginError, match="NOT_THERE"):
        hooks.with_values("A = 1\n", {"NOT_THERE": 2})


def test_sphinx_roles_are_dropped_before_code_only():
    hooks = _hooks()
    html = "<p>The run's :class:<code>RunResult</code>; a ratio 3:2 and :note: stay.</p>"
    assert hooks.on_page_content(html, None, None, None) == (
        "<p>The run's <code>RunResult</code>; a ratio 3:2 and :note: stay.</p>")
