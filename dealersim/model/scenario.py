"""Scenario files: a strategy preset, a seed and ``Params`` overrides, stored as TOML.

A scenario file is data, never code: it is parsed with :mod:`tomllib` and every value is checked
against the ``Params`` metadata (``model.params``), exactly like ``--set`` on the command line.
The dashboard saves and loads these files, and ``dealersim run --scenario FILE`` accepts them.

Example file::

    # dealersim scenario
    strategy = "planned"
    seed = 3

    [params]
    n_reps = 12
    accounts_per_rep = 150
    lease_value_per_device = 210.0

Errors are one-line ``ValueError``s naming the key (``params.n_reps``) and what is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from dealersim.base.io import TOML_MAX_BYTES, atomic_file, parse_toml, read_toml_text
from dealersim.model.params import SEED_MAX as SEED_MAX  # re-exported: the dashboard's seed box
from dealersim.model.params import Params, check_seed, field_specs, shown, spec
from dealersim.model.strategies import make_params, strategy_names, strategy_overrides

TOP_LEVEL_KEYS = ("strategy", "seed", "description", "params")
"""Keys allowed at the top level of a scenario file."""

MAX_BYTES = TOML_MAX_BYTES
"""Largest scenario file read: the cap of every TOML file (a real one is well under 4 kB)."""

_STRING_OR_COMMENT = re.compile(
    r'"""(?:\\.|[^\\])*?"""|\'\'\'.*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'[^\'\n]*\'|#[^\n]*',
    re.DOTALL,
)
"""TOML strings and comments, blanked out before looking at number literals."""
_ODD_NUMBER = re.compile(
    r"=[ \t]*([+-]?(?:0[xob][0-9A-Za-z_]*|[0-9][0-9A-Za-z_.:+-]*_[0-9A-Za-z_.:+-]*))"
)
"""A value that TOML reads as a number but people would not: ``1_2``, ``0x10``, ``0o7``, ``0b1``."""


@dataclass(frozen=True)
class Scenario:
    """A strategy preset plus field overrides and a seed.

    Attributes:
        strategy: A registered strategy name.
        seed: The run's seed (an integer >= 0).
        params: ``Params`` field overrides on top of the strategy preset (validated).
        description: Free text for people, ignored by the model.
    """

    strategy: str = "overlay"
    seed: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        check_scenario(self)

    def to_params(self) -> Params:
        """The full validated ``Params`` of this scenario."""
        return make_params(self.strategy, **self.params)

    @classmethod
    def from_params(
        cls, strategy: str, seed: int, params: Params, description: str = ""
    ) -> Scenario:
        """A scenario holding only the fields of ``params`` that differ from the preset.

        Args:
            strategy: The strategy preset the values started from.
            seed: The seed.
            params: The complete parameter set.
            description: Optional free text.
        """
        changed = params.diff(make_params(strategy))
        return cls(strategy=strategy, seed=seed,
                   params={k: a for k, (a, _) in changed.items()}, description=description)

    def to_toml(self) -> str:
        """The scenario as TOML text (``loads(s.to_toml()) == s``)."""
        doc: dict[str, Any] = {"strategy": self.strategy, "seed": int(self.seed)}
        if self.description:
            doc["description"] = self.description
        order = [s.name for s in field_specs()]
        doc["params"] = {k: self.params[k] for k in order if k in self.params}
        head = "# dealersim scenario (see 'dealersim params' for every field)\n"
        return head + tomli_w.dumps(doc)


def check_scenario(sc: Scenario) -> None:
    """Validate a scenario in place (coercing its values to the field types).

    Raises:
        ValueError: One line naming the key and what is allowed.
    """
    if not isinstance(sc.strategy, str) or sc.strategy not in strategy_names():
        raise ValueError(
            f"strategy: {shown(sc.strategy)} is unknown; "
            f"expected one of {', '.join(strategy_names())}"
        )
    check_seed(sc.seed)
    if not isinstance(sc.description, str):
        raise ValueError(f"description: {shown(sc.description)} is not allowed; "
                         "expected a string")
    if not isinstance(sc.params, dict):
        raise ValueError("params: expected a table of field = value")
    names = {s.name for s in field_specs()}
    clean: dict[str, Any] = {}
    for key, value in sc.params.items():
        if key not in names:
            raise ValueError(
                f"params.{_printable(key)}: unknown parameter (see 'dealersim params' for the "
                "list)"
            )
        try:
            clean[key] = spec(key).coerce(value)
        except ValueError as exc:
            raise ValueError(f"params.{exc}") from None
    sc.params.clear()
    sc.params.update(clean)
    strategy_overrides(sc.strategy)
    make_params(sc.strategy, **clean)  # cross-field checks, if Params ever grows any


def loads(text: str) -> Scenario:
    """Parse and validate scenario TOML text.

    Args:
        text: The file's contents.

    Returns:
        The validated scenario.

    Raises:
        ValueError: One line naming the problem (TOML syntax, unknown key, bad value).
    """
    doc = parse_toml(text)
    check_plain_numbers(text)
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            raise ValueError(
                f"{_printable(key)}: unknown key; expected {', '.join(TOP_LEVEL_KEYS)} "
                "(parameters go under [params])"
            )
    params = doc.get("params", {})
    if not isinstance(params, dict):
        raise ValueError("params: expected a table of field = value ([params])")
    return Scenario(
        strategy=doc.get("strategy", "overlay"),
        seed=doc.get("seed", 0),
        params=dict(params),
        description=doc.get("description", ""),
    )


def check_plain_numbers(text: str) -> None:
    """Refuse number literals written with ``_`` or a ``0x``/``0o``/``0b`` prefix.

    TOML reads ``n_reps = 1_2`` as 12 and ``seed = 0x10`` as 16; a scenario file, like ``--set``,
    takes plain decimal digits only, so that what a person reads is what the model gets.

    Raises:
        ValueError: One line with the line number and the literal.
    """
    blanked = _STRING_OR_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    match = _ODD_NUMBER.search(blanked)
    if match:
        line = blanked.count("\n", 0, match.start()) + 1
        raise ValueError(f"line {line}: {match.group(1)!r} is not a plain number; write it with "
                         "the digits 0-9 only (no '_', no 0x/0o/0b prefix)")


def _printable(text: str) -> str:
    return text if text.isprintable() else repr(text)


def _where(path: Path) -> str:
    return _printable(str(path))


def read_text(path: str | Path) -> str:
    """The text of a scenario file: a regular UTF-8 file of at most :data:`MAX_BYTES`, no NUL.

    A named pipe, a device such as ``/dev/zero`` or a directory is refused at once instead of
    hanging or reading forever (see :func:`dealersim.base.io.read_toml_text`).

    Raises:
        ValueError: One line naming the file and the problem.
    """
    return read_toml_text(path, "expected a TOML scenario file")


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file (see :func:`read_text` for what is refused).

    Raises:
        ValueError: One line naming the file and the problem.
    """
    text = read_text(path)
    try:
        return loads(text)
    except ValueError as exc:
        raise ValueError(f"{_where(Path(path))}: {exc}") from None


def save(scenario: Scenario, path: str | Path) -> Path:
    """Write ``scenario`` to ``path`` as TOML (atomically) and return the path."""
    with atomic_file(path) as tmp:
        tmp.write_text(scenario.to_toml(), encoding="utf-8")
    return Path(path)
