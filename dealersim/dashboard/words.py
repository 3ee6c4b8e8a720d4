"""Plain words for the owner: friendly names, units, allowed ranges and a glossary.

Nothing here re-types a list the model already has: strategy names and one-liners come from
the presets' docstrings (``model/strategies.py``), choices and their explanations from each
``Params`` field's help text, labels from ``Params`` metadata and the KPI registry. This module
only turns code values and unit codes into words, and reads what people type.
"""

from __future__ import annotations

import re
from typing import Any

from dealersim.model import kpis
from dealersim.model.params import FieldSpec, field_specs, spec
from dealersim.model.strategies import strategy_doc, strategy_names, strategy_overrides
from dealersim.model.strategies import strategy_line as model_strategy_line
from dealersim.model.strategies import strategy_title as model_strategy_title

PERCENT_UNITS = ("share", "probability", "share/year")
"""Unit codes of fractions that owners read as percentages (a share of 0.3 shows as 30 %)."""

PLAIN_UNITS = {
    "log-odds": "strength, 0 = none, higher = stronger",
    "log-sd": "spread, 0 = all alike, higher = more varied",
    "share of log-ratio": "share of the warm advantage",
    "log-hazard per gap": "weight, 0 = no effect, higher = quits sooner",
    "log-hazard per morale": "weight, 0 = no effect, higher = quits sooner",
}
"""Unit codes an owner does not read (statistics), in words."""

WALL_SCALE = kpis.column("wall_mean").unit
"""What a wall value means, from the KPI registry: ``0 = open, 1 = walled off``."""

GLOSSARY: tuple[tuple[str, str], ...] = (
    ("Wall", f"How protective a hardware rep is of his accounts ({WALL_SCALE}). A high wall means "
     "he keeps the specialist away from his customers and brings no introductions."),
    ("MRR", "Monthly recurring revenue: what the managed contracts bring in every month."),
    ("Managed services", "Managed print and managed IT: contracts that run the customer's "
     "devices or IT for a monthly fee, instead of one-off copier leases."),
    ("Specialist", "The managed-services salesperson the owner hires to sell those contracts, "
     "working next to the hardware reps."),
    ("Overlay", "A specialist laid on top of the hardware team, selling into the same "
     "customers. The preset of that name is the story's launch: "
     f"{strategy_doc('overlay').splitlines()[0]}"),
    ("Launch succeeded", kpis.kpi("launch_succeeded").help),
    ("Doing nothing", "The same dealership, market and luck without the program: only the "
     "hardware business, which keeps eroding in the price war. Every money figure is against "
     "it."),
    ("Cash against doing nothing", "Your plan's cash (gross profit less everything "
     "the program costs) less that of the same dealership without the program, on the same "
     "luck, added up month by month since the launch. Drawn over time it is the J-curve: it "
     "dips while the program costs more than it brings, then climbs."),
    ("Pays back", "The month from which your plan's cash stays ahead of doing nothing for "
     "good."),
    ("Value added", "What the business would sell for at the end (its last year's earnings "
     "times what buyers pay per dollar of earnings, more for contracted recurring revenue) "
     "less what the same dealership without the program would sell for."),
    ("Seed", "The number that fixes the run's luck. The same settings and the same seed always "
     "tell the same story; another seed is another possible history of the same plan."),
)
"""The glossary panel: word and meaning."""


# ---------------------------------------------------------------------------- strategies
def strategy_title(name: str) -> str:
    """A preset's name in an owner's words (``"planned"`` -> "The author's prescription")."""
    return model_strategy_title(name)


def strategy_line(name: str) -> str:
    """A preset's one-line explanation in plain words, without code names."""
    return model_strategy_line(name)


def strategy_by_title() -> dict[str, str]:
    """Friendly names to preset names, in registry order."""
    return {strategy_title(n): n for n in strategy_names()}


def key_levers() -> tuple[str, ...]:
    """The levers shown up front: every field any preset changes, in first-use order."""
    seen: dict[str, None] = {}
    for name in strategy_names():
        seen.update(dict.fromkeys(strategy_overrides(name)))
    return tuple(seen)


# ---------------------------------------------------------------------------- choices
def _choice_items(s: FieldSpec) -> list[str]:
    """The explained choices in a field's help: ``"...: none, split (shares...), double ..."``."""
    _, _, tail = s.help.partition(":")
    parts = re.split(r",\s*(?:or\s+)?|\s+or\s+", tail.strip().rstrip("."))
    return [p.strip() for p in parts if p.strip()]


def choice_title(s: FieldSpec, value: Any) -> str:
    """A choice in words, read from the field's help when it explains it.

    ``credit_policy`` ``"split"`` -> ``"Split (shares sum to 100 %)"``; ``intervention``
    ``"before_launch"`` -> ``"Before launch"``.
    """
    words = str(value).split("_")
    for item in _choice_items(s):
        low = item.lower()
        if all(re.search(rf"\b{re.escape(w)}", low) for w in words):
            return item[0].upper() + item[1:]
    return " ".join(words).capitalize()


def choice_titles(s: FieldSpec) -> dict[str, Any]:
    """Every choice of a field in words, mapped to its value."""
    return {choice_title(s, c): c for c in s.choices or ()}


# ---------------------------------------------------------------------------- units
def is_percent(s: FieldSpec) -> bool:
    """Whether a field is a fraction shown as a percentage."""
    return s.kind == "float" and s.unit in PERCENT_UNITS and (s.high or 0) <= 1.0


def unit_words(s: FieldSpec) -> str:
    """A field's unit in words: ``"$/month"`` -> ``"$ a month"``, a wall 0-1 -> its meaning."""
    if is_percent(s):
        return "% a year" if s.unit.endswith("/year") else "%"
    if s.unit in ("0-1", "wall"):
        return WALL_SCALE if "wall" in s.label.lower() or s.unit == "wall" else "scale 0 to 1"
    if s.unit in PLAIN_UNITS:
        return PLAIN_UNITS[s.unit]
    unit = re.sub(r"\bmin\b", "minutes", s.unit)
    unit = re.sub(r"^x\s*", "× ", unit)
    return unit.replace("/", " a ")


def shown_value(s: FieldSpec, value: Any) -> str:
    """A value as the owner reads it: ``0.3`` share -> ``"30"``, ``75000.0`` -> ``"75,000"``."""
    if s.kind == "bool":
        return "yes" if value else "no"
    if s.kind == "choice":
        return choice_title(s, value)
    v = float(value)
    if is_percent(s):
        v *= 100
    if s.kind == "int" or v.is_integer():
        return f"{v:,.0f}"
    return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.1f}"


def label_with_value(s: FieldSpec, value: Any) -> str:
    """``"Hardware gross margin: 30 %"`` (the slider's label)."""
    unit = unit_words(s)
    if unit.lower() in s.label.lower():
        unit = ""  # "Hardware reps: 8", not "Hardware reps: 8 (reps)"
    tail = f" {unit}" if unit in ("%", "% a year") else (f" ({unit})" if unit else "")
    return f"{s.label}: {shown_value(s, value)}{tail}"


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,g}"


def allowed_words(s: FieldSpec) -> str:
    """What may be typed, in words: ``"a whole number from 25 to 5,000"``."""
    assert s.low is not None and s.high is not None
    if s.kind == "int":
        return f"a whole number from {_num(s.low)} to {_num(s.high)}"
    if is_percent(s):
        return f"a percentage from {_num(s.low * 100)} to {_num(s.high * 100)}"
    if s.unit.startswith("$"):
        return f"an amount in dollars from {_num(s.low)} to {_num(s.high)}"
    return f"a number from {_num(s.low)} to {_num(s.high)}"


_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")


def read_number(s: FieldSpec, text: str) -> Any:
    """Read what the owner typed into a number box (thousands commas, ``$`` and ``%`` allowed).

    Args:
        s: The field.
        text: The typed text; a percentage field takes percent (``"30"`` is 0.3).

    Returns:
        The checked value in the field's type.

    Raises:
        ValueError: One line in the owner's words, e.g. ``"150.7 is not a whole number: enter
            a whole number from 25 to 5,000"``.
    """
    want = allowed_words(s)
    raw = str(text).strip().replace(",", "").replace("$", "").replace("%", "").strip()
    quoted = str(text).strip()[:40] or "an empty box"
    if not raw:
        raise ValueError(f"the box is empty: enter {want}")
    if s.kind == "int":
        if raw.startswith("-") and _WHOLE.fullmatch(raw[1:]):
            raise ValueError(f"{quoted} is too small: enter {want}")
        if not _WHOLE.fullmatch(raw):
            what = "a number" if not _DECIMAL.fullmatch(raw.lstrip("-")) else "a whole number"
            raise ValueError(f"{quoted} is not {what}: enter {want}")
        value: float = int(raw)
    else:
        if not _DECIMAL.fullmatch(raw.lstrip("-")) or raw.count("-") > (raw[0] == "-"):
            raise ValueError(f"{quoted} is not a number written with digits: enter {want}")
        value = float(raw) / (100 if is_percent(s) else 1)
        value = round(value, 10)
    assert s.low is not None and s.high is not None
    if value < s.low:
        raise ValueError(f"{quoted} is too small: enter {want}")
    if value > s.high:
        raise ValueError(f"{quoted} is too large: enter {want}")
    return s.coerce(value)


def field_line(s: FieldSpec) -> str:
    """The line under a control: the help, with a wall's or a scale's meaning."""
    unit = unit_words(s)
    if unit == WALL_SCALE and WALL_SCALE not in s.help:
        return f"{s.help} ({WALL_SCALE})"
    return s.help


CODE_NAME = re.compile(r"\b[a-z]+_[a-z_]+\b")
"""A code name: an identifier with an underscore (``before_launch``, ``accounts_per_rep``)."""


def code_names_in(text: str) -> list[str]:
    """Code names (``Params`` fields, preset and choice values) found in page text."""
    known = {s.name for s in field_specs()} | set(strategy_names())
    known |= {str(c) for s in field_specs() if s.kind == "choice" for c in s.choices or ()}
    return sorted({w for w in CODE_NAME.findall(text) if w in known or "_" in w})


_RANGE = re.compile(r"expected \[([^,\]]+), ([^\]]+)\]")
_FIELD = re.compile(r"^params\.([A-Za-z0-9_]+):")


def file_problem(where: str, message: str) -> str:
    """One plain line saying why a scenario file was not loaded (and that nothing changed).

    A setting is named by its label with the name the file uses (``Hardware reps ("n_reps"
    in the file)``), and ``expected [2, 50]`` reads ``expected a value from 2 to 50``.
    """
    known = {s.name for s in field_specs()}
    found = _FIELD.match(message)
    if found and found.group(1) in known:
        name = found.group(1)
        message = f'{spec(name).label} ("{name}" in the file):' + message[found.end():]
    message = _RANGE.sub(r"expected a value from \1 to \2", message)
    return f"{where} was not loaded, nothing changed: {message}"
