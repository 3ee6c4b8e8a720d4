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

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from dealersim.model.params import Params, field_specs, spec
from dealersim.model.strategies import make_params, strategy_names, strategy_overrides

TOP_LEVEL_KEYS = ("strategy", "seed", "description", "params")
"""Keys allowed at the top level of a scenario file."""

MAX_BYTES = 256 * 1024
"""Largest scenario file read (a real one is well under 4 kB)."""

SEED_MAX = 2**63 - 1


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
            f"strategy: {sc.strategy!r} is unknown; expected one of {', '.join(strategy_names())}"
        )
    seed = sc.seed
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise ValueError(f"seed: {seed!r} is not allowed; expected an integer in [0, 2**63-1]")
    if not isinstance(sc.description, str):
        raise ValueError(f"description: {sc.description!r} is not allowed; expected a string")
    if not isinstance(sc.params, dict):
        raise ValueError("params: expected a table of field = value")
    names = {s.name for s in field_specs()}
    clean: dict[str, Any] = {}
    for key, value in sc.params.items():
        if key not in names:
            raise ValueError(
                f"params.{key}: unknown parameter (see 'dealersim params' for the list)"
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
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {' '.join(str(exc).split())}") from None
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            raise ValueError(
                f"{key}: unknown key; expected {', '.join(TOP_LEVEL_KEYS)} "
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


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Raises:
        ValueError: One line naming the file and the problem.
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ValueError(f"{path}: larger than {MAX_BYTES // 1024} kB; not a scenario file")
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text; expected a TOML scenario file") from None
    try:
        return loads(text)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def save(scenario: Scenario, path: str | Path) -> Path:
    """Write ``scenario`` to ``path`` as TOML and return the path."""
    path = Path(path)
    path.write_text(scenario.to_toml(), encoding="utf-8")
    return path
