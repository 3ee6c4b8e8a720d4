"""The one parameter source: a frozen ``Params`` dataclass whose fields carry their own metadata.

Every field declares its default, bounds (or allowed choices), unit, label, group, help text and
source with its evidence grade: A peer-reviewed or large sample, B trade survey or benchmark with
a stated sample, C blog/vendor/anecdote, U no source found (an estimate). A source is either
``evidence:<id>; <note> [GRADE]``, where each ``<id>`` is an entry of the evidence page
(``docs/evidence.md#<id>``, several ids separated by ``; ``), or ``estimate: <reason> [U]``.
CLI flags, dashboard controls, sweep factors, SALib problems and the documentation table are
all generated from this module.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

GROUPS: tuple[str, ...] = (
    "market",
    "hardware reps",
    "specialist",
    "sales manager",
    "owner",
    "comp plan",
    "money",
    "simulation",
)

CREDIT_POLICIES = ("none", "split", "double", "team")
INTERVENTIONS = ("never", "reactive", "before_launch")
PERMISSION_RULES = ("manager", "never", "always")
TERRITORIES = ("all", "competitor_only")
GRADE_ORDER = ("A", "B", "C", "U")
"""Evidence grades from best to worst."""

SEED_MAX = 2**63 - 1
"""Largest seed. Seeds are integers in [0, 2**63 - 1] everywhere: ``--seed``, scenario files,
``simulate(seed=...)`` and ``DealershipModel(rng=...)``."""
SEED_RANGE = "an integer in [0, 2**63 - 1]"

_DIGITS = re.compile(r"[0-9]+")
"""A whole number as people write one: ASCII digits only (no sign, '_', exponent or '１２')."""
_INT_TEXT = re.compile(r"[+-]?[0-9]+(\.0*)?")
"""An integer field's value: ASCII digits, an optional sign and an optional ``.0``."""
_FLOAT_TEXT = re.compile(
    r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(nan|inf|infinity)", re.IGNORECASE
)
"""A float field's value: ASCII decimal notation (no '_', no non-ASCII digits, no hex)."""
_BLANKS = " \t\r\n"
"""The whitespace stripped around a value (ASCII only: '12\\u3000' is not a number)."""


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` shortened for a one-line message (safe for integers of any size)."""
    if isinstance(value, int) and value.bit_length() > 200:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_whole(text: str, low: int, high: int, expected: str = "") -> int:
    """Read a whole number written with the ASCII digits 0-9 only, and check it is in [low, high].

    Python's ``int()`` also takes ``'１２'``, ``'1_2'``, ``' +12 '``; this does not. Surrounding
    ASCII blanks are ignored. Very long inputs are refused without converting them.

    Args:
        text: The raw text.
        low: Smallest allowed value.
        high: Largest allowed value.
        expected: What is allowed, for the message (default ``an integer in [low, high]``).

    Returns:
        The number.

    Raises:
        ValueError: One line, ``<text> is ...; expected an integer in [low, high]`` (without
            the argument's name: the caller adds it).
    """
    expected = f"expected {expected or f'an integer in [{low}, {high}]'}"
    if not isinstance(text, str):
        raise ValueError(f"{shown(text)} is not text; {expected}")
    raw = text.strip(_BLANKS)
    if not raw:
        raise ValueError(f"the value is empty; {expected}")
    if raw[0] in "+-" and _DIGITS.fullmatch(raw[1:]):
        raise ValueError(f"{shown(text)} has a sign; {expected}")
    if not _DIGITS.fullmatch(raw):
        raise ValueError(f"{shown(text)} is not a whole number written with the digits 0-9; "
                         f"{expected}")
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(high)) or int(digits) > high:
        raise ValueError(f"{shown(text)} is too large; {expected}")
    value = int(digits)
    if value < low:
        raise ValueError(f"{value} is too small; {expected}")
    return value


def check_int(value: Any, name: str, low: int, high: int, expected: str = "") -> int:
    """Check an integer argument of the Python API (``bool`` and floats are refused).

    Args:
        value: The value given (``int`` or a numpy integer).
        name: The argument's name, for the message.
        low: Smallest allowed value.
        high: Largest allowed value.
        expected: What is allowed, for the message (default ``an integer in [low, high]``).

    Returns:
        The value as a Python ``int``.

    Raises:
        ValueError: One line naming the argument and what is allowed.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer) \
            or not low <= int(value) <= high:
        raise ValueError(f"{name}: {shown(value)} is not allowed; expected "
                         f"{expected or f'an integer in [{low}, {high}]'}")
    return int(value)


def check_seed(value: Any, name: str = "seed") -> int:
    """Check a seed: an integer in [0, 2**63 - 1] (see :data:`SEED_MAX`).

    Raises:
        ValueError: One line naming the argument and the range.
    """
    return check_int(value, name, 0, SEED_MAX, SEED_RANGE)


@dataclass(frozen=True)
class FieldSpec:
    """Metadata of one ``Params`` field.

    Attributes:
        name: Field name.
        default: Default value.
        kind: One of ``"float"``, ``"int"``, ``"bool"``, ``"choice"``.
        low: Lower bound (numeric kinds), else ``None``.
        high: Upper bound (numeric kinds), else ``None``.
        choices: Allowed values for ``"choice"`` (and ``(False, True)`` for bools).
        unit: Unit of measure, empty when dimensionless.
        label: Short human label for controls and tables.
        group: One of ``GROUPS``.
        help: One-sentence explanation.
        source: Where the default comes from, ending with its grade in brackets.
    """

    name: str
    default: Any
    kind: str
    low: float | None
    high: float | None
    choices: tuple[Any, ...] | None
    unit: str
    label: str
    group: str
    help: str
    source: str

    @property
    def grade(self) -> str:
        """The evidence grade letter (A, B, C or U) parsed from ``source``.

        A source with two grades (``"[B/U]"``) takes the worse one: a number is only as good as
        its weakest support.
        """
        if "[" not in self.source:
            return "U"
        tail = self.source.rsplit("[", 1)[-1].rstrip("]")
        letters = [g.strip() for g in tail.split("/") if g.strip() in GRADE_ORDER]
        return max(letters, key=GRADE_ORDER.index) if letters else "U"

    def allowed(self) -> str:
        """Describe the allowed range for error messages and docs."""
        if self.kind == "choice":
            return "one of " + ", ".join(str(c) for c in self.choices or ())
        if self.kind == "bool":
            return "true or false"
        return f"[{_fmt(self.low)}, {_fmt(self.high)}]"

    def coerce(self, value: Any) -> Any:
        """Check ``value`` against this field and return it in the field's type.

        Args:
            value: Candidate value (already parsed from text where needed).

        Returns:
            The value converted to the field's type.

        Raises:
            ValueError: One line naming the field, the value and the allowed range.
        """
        def bad() -> ValueError:  # written only when needed: every run checks every field
            return ValueError(
                f"{self.name}: {shown(value)} is not allowed; expected {self.allowed()}")

        if self.kind == "choice":
            if not isinstance(value, str) or value not in (self.choices or ()):
                raise bad()
            return value
        if self.kind == "bool":
            if isinstance(value, bool | np.bool_):
                return bool(value)
            if isinstance(value, numbers.Real) and value in (0, 1):
                return bool(value)
            raise bad()
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
            raise bad()
        try:
            number = float(value)
        except (OverflowError, ValueError, TypeError):  # an int too large for a float
            raise bad() from None
        if not math.isfinite(number):
            raise bad()
        if self.kind == "int":
            if isinstance(value, numbers.Integral):
                value = int(value)
            elif number.is_integer():
                value = int(number)
            else:
                raise bad()
        else:
            value = number
        assert self.low is not None and self.high is not None
        if not (self.low <= value <= self.high):
            raise bad()
        return value

    def parse(self, text: str) -> Any:
        """Parse a command-line or form string into a valid value for this field.

        Args:
            text: The raw text, e.g. ``"0.5"``, ``"true"`` or ``"double"``.

        Returns:
            The checked value.

        Raises:
            ValueError: One line naming the field and the allowed range.
        """
        if not isinstance(text, str):
            raise ValueError(f"{self.name}: {shown(text)} is not text; expected {self.allowed()}")
        raw = text.strip(_BLANKS)
        if self.kind == "choice":
            return self.coerce(raw)
        if self.kind == "bool":
            low = raw.lower()
            if low in ("true", "yes", "on", "1"):
                return True
            if low in ("false", "no", "off", "0"):
                return False
            raise ValueError(
                f"{self.name}: {shown(text)} is not allowed; expected {self.allowed()}"
            )
        pattern, what = ((_INT_TEXT, "a whole number") if self.kind == "int"
                         else (_FLOAT_TEXT, "a number"))
        if not pattern.fullmatch(raw):
            raise ValueError(f"{self.name}: {shown(text)} is not {what} written with the digits "
                             f"0-9; expected {self.allowed()}")
        try:
            return self.coerce(float(raw))
        except ValueError:
            raise ValueError(
                f"{self.name}: {shown(text)} is not allowed; expected {self.allowed()}"
            ) from None


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    return f"{int(x)}" if float(x).is_integer() else f"{x:g}"


def _p(
    default: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    unit: str = "",
    label: str,
    group: str,
    help: str,
    source: str = "estimate [U]",
    choices: tuple[Any, ...] | None = None,
) -> Any:
    if isinstance(default, bool):
        kind = "bool"
        choices = (False, True)
    elif choices is not None:
        kind = "choice"
    elif isinstance(default, int):
        kind = "int"
    else:
        kind = "float"
    meta = dict(
        kind=kind, low=low, high=high, choices=choices, unit=unit, label=label,
        group=group, help=help, source=source,
    )
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Params:
    """All inputs of one simulation run. Defaults describe the story's dealership (overlay launch).

    Construct with keyword overrides, e.g. ``Params(n_reps=12, credit_policy="double")``. Every
    value is validated on construction; a bad one raises ``ValueError`` naming the field, the value
    and the allowed range. Use :func:`field_specs` for the metadata.
    """

    # ---------------------------------------------------------------- market
    accounts_per_rep: int = _p(
        200, 25, 5000, unit="accounts", label="Accounts per rep", group="market",
        help="Active hardware accounts in each rep's book at the start.",
        source="estimate: 100-300 active accounts per rep is the trade's rule of thumb; no "
        "survey found [U]",
    )
    competitor_ratio: float = _p(
        1.0, 0.0, 5.0, unit="per own account", label="Competitor accounts per own account",
        group="market", help="Competitor-held accounts in the territory for each account we hold.",
        source="estimate: a territory holds about as many prospects as customers [U]",
    )
    open_territory_share: float = _p(
        0.15, 0.0, 0.5, unit="share", label="Open-territory share", group="market",
        help="Share of competitor-held accounts assigned to no rep (the open hardware territory).",
        source="estimate: a minority of the territory's prospects belongs to no rep [U]",
    )
    devices_per_account: float = _p(
        4.0, 1.0, 40.0, unit="devices", label="Devices per account", group="market",
        help="Mean fleet size of an account (log-normal across accounts).",
        source="estimate: a small or mid-sized business runs a few copiers and printers [U]",
    )
    devices_sigma: float = _p(
        0.6, 0.0, 1.5, unit="log-sd", label="Fleet size spread", group="market",
        help="Log-normal spread of fleet sizes across accounts.",
        source="estimate: fleets range from one device to a few dozen [U]",
    )
    lease_value_per_device: float = _p(
        180.0, 50.0, 1000.0, unit="$/month", label="Lease + service value per device",
        group="market", help="Monthly hardware lease and service revenue per device at the start.",
        source="evidence:dealer-lease-pages; what a lease with service covers; the $180 a month "
        "is our reading, no page gives it [C]",
    )
    lease_term_months: int = _p(
        60, 24, 72, unit="months", label="Lease term", group="market",
        help="Copier lease term; an account is contestable at its lease end.",
        source="evidence:dealer-lease-pages; 24-60 months, over 90 % of them 36 or 60 (one "
        "dealer); 60 taken [C]",
    )
    hw_margin: float = _p(
        0.30, 0.05, 0.6, unit="share", label="Hardware gross margin", group="market",
        help="Gross margin on hardware revenue at the start of the run.",
        source="evidence:slawetsky-2003-print-your-own-money; "
        "evidence:slawetsky-2004-margin-squeeze; evidence:slawetsky-2007-margins; hardware "
        "margins of about 28-30 % [B]",
    )
    hw_margin_erosion: float = _p(
        0.015, 0.0, 0.1, unit="points/year", label="Margin erosion", group="market",
        help="Yearly fall of the hardware gross margin from the price war.",
        source="evidence:slawetsky-2004-margin-squeeze; evidence:enx-2013-reps-starving; margins "
        "lost 10-17 points over one to two decades [B]",
    )
    print_volume_decline: float = _p(
        0.04, 0.0, 0.2, unit="share/year", label="Print volume decline", group="market",
        help="Yearly decline of print volume (and so of hardware revenue) per account.",
        source="evidence:mpsa-2021-print-volume; -3 to -5 % a year per account [C]",
    )
    renewal_loss: float = _p(
        0.42, 0.0, 1.0, unit="probability", label="Loss at renewal", group="market",
        help="Chance that an average hardware-only account goes to a competitor at lease end.",
        source="estimate: calibrated so hardware-only accounts decline 5-15 % a year, a range no "
        "survey confirms [U]",
    )
    price_pressure: float = _p(
        1.0, 0.5, 2.0, unit="multiplier", label="Price pressure", group="market",
        help="Multiplier on the renewal loss from competitors pricing below us.",
        source="evidence:lamb-2016; every deal is a price war and the boss won't move on price; "
        "size estimated [U]",
    )
    relationship_protection: float = _p(
        1.5, 0.0, 5.0, unit="log-odds", label="Relationship protection", group="market",
        help="How strongly a good relationship protects an account at renewal.",
        source="estimate: how much a good relationship protects an account at renewal; nothing "
        "measures it [U]",
    )
    max_loss_probability: float = _p(
        0.98, 0.5, 1.0, unit="probability", label="Largest loss chance at renewal",
        group="market",
        help="Cap on the chance that one of our accounts goes to a competitor at lease end.",
        source="estimate: even the weakest relationship keeps a few customers [U]",
    )
    own_relationship_mean: float = _p(
        0.5, 0.05, 0.95, unit="0-1", label="Relationship with our customers", group="market",
        help="Mean relationship strength with our own customers at the start (Beta).",
        source="estimate: our customers' relationships are middling on average [U]",
    )
    own_relationship_concentration: float = _p(
        10.0, 1.0, 100.0, unit="Beta a+b", label="Spread of our relationships (inverse)",
        group="market",
        help="Beta concentration of our customers' relationships (higher: less spread).",
        source="estimate: a moderate spread of relationships across our customers [U]",
    )
    competitor_relationship_mean: float = _p(
        0.25, 0.05, 0.95, unit="0-1", label="Relationship with competitors' customers",
        group="market",
        help="Mean relationship strength with competitor-held accounts at the start (Beta).",
        source="estimate: we know competitors' customers less well than our own [U]",
    )
    competitor_relationship_concentration: float = _p(
        8.0, 1.0, 100.0, unit="Beta a+b", label="Spread of competitors' relationships (inverse)",
        group="market",
        help="Beta concentration of competitor-held accounts' relationships.",
        source="estimate: a moderate spread across competitors' customers [U]",
    )
    competitor_win_rate: float = _p(
        0.10, 0.0, 0.5, unit="probability", label="Competitor win rate", group="market",
        help="Chance that the territory rep wins a competitor-held account at its lease end.",
        source="estimate: calibrated with the loss at renewal to a 5-15 % net decline a year [U]",
    )
    managed_stickiness: float = _p(
        0.25, 0.05, 1.0, unit="hazard multiplier", label="Managed stickiness", group="market",
        help="Multiplier on the loss chance of an account under a managed contract.",
        source="evidence:photizo-2015-mps-customers; managed customers leave less often, but the "
        "survey measures intent; size estimated [B/U]",
    )
    managed_relationship: float = _p(
        0.8, 0.0, 1.0, unit="0-1", label="Managed relationship", group="market",
        help="Relationship strength an account reaches once its managed contract is live.",
        source="estimate: monthly service contact deepens the relationship [U]",
    )
    managed_term_months: int = _p(
        48, 12, 72, unit="months", label="Managed contract term", group="market",
        help="Term of a managed print or managed IT contract.",
        source="evidence:mps-contract-pages; evidence:msp-economics-pages; "
        "evidence:proxuma-msp-contracts; managed print 36-60 months, managed IT 36 [C]",
    )
    managed_renewal_churn: float = _p(
        0.08, 0.0, 1.0, unit="probability", label="Managed churn at contract end",
        group="market",
        help="Chance that a managed customer switches provider (and leaves us) at contract end.",
        source="evidence:photizo-2015-mps-customers; evidence:proxuma-msp-contracts; 13 % intend "
        "to switch provider; MSPs renew 85-90 % [B/U]",
    )
    mit_share: float = _p(
        0.2, 0.0, 1.0, unit="share", label="Managed IT share of deals", group="market",
        help="Share of managed deals that are managed IT rather than managed print.",
        source="estimate: most of a copier dealer's managed deals are print; managed IT is the "
        "smaller share [U]",
    )
    managed_margin: float = _p(
        0.40, 0.1, 0.7, unit="share", label="Managed IT gross margin", group="market",
        help="Gross margin of a live managed IT contract: what is left of its per-seat fee "
        "after the help desk, technicians and tools that deliver it, so the delivery cost "
        "grows with the seats. Managed print's margin follows from the service margin and "
        "its discount.",
        source="evidence:microsoft-partner-managed-services; evidence:mspnotes-2024-margins; "
        "evidence:stasieczko-2023-mits-numbers; MSPs aim at 45-50 % and often land at 30-40 "
        "% [C]",
    )
    prospect_cooldown_days: int = _p(
        180, 0, 730, unit="days", label="Cool-down after a lost opportunity", group="market",
        help="Days before an account whose opportunity ended (lost, refused or cooled) can be "
        "prospected again.",
        source="estimate: a customer who said no is not called again for about six months [U]",
    )
    # ---------------------------------------------------------------- hardware reps
    n_reps: int = _p(
        8, 2, 50, unit="reps", label="Hardware reps", group="hardware reps",
        help="Number of hardware reps, each with a book of accounts.",
        source="evidence:cannata-2023-dealer-survey; "
        "evidence:sinha-zoltners-2001-sales-force-models; the typical dealer is far below "
        "the $37M mean; 8 reps is our estimate [U]",
    )
    wall_initial: float = _p(
        0.33, 0.0, 1.0, unit="0-1", label="Initial wall", group="hardware reps",
        help="Protectiveness of reps over their accounts before the launch, the history of "
        "the specialists who failed before included; once a specialist works the territory "
        "each rep's wall settles at his guard: this plus the team's culture and his own "
        "disposition.",
        source="evidence:zoltners-2011-who-owns-customers; evidence:lamb-2016; reps guard the "
        "accounts they see as theirs, and two specialists failed before (beat 9); level "
        "estimated [U]",
    )
    wall_spread: float = _p(
        0.10, 0.0, 0.3, unit="0-1", label="Wall spread", group="hardware reps",
        help="Standard deviation of the reps' guards (where each wall settles) within a team.",
        source="estimate: reps differ in how protective they are [U]",
    )
    culture_spread: float = _p(
        0.20, 0.0, 0.3, unit="0-1", label="Culture spread", group="hardware reps",
        help="Standard deviation of a team's mean wall across dealerships (its culture), for a "
        "team of the culture reference size; a team's culture is the mean of its reps' "
        "dispositions, so its spread scales with one over the square root of the team's size.",
        source="evidence:lamb-2016; evidence:cannata-it-services-editorial; 'eight of ten "
        "dealerships' is the author's opinion, used as a target; spread estimated [U]",
    )
    culture_reference_reps: int = _p(
        8, 1, 100, unit="reps", label="Culture reference team", group="hardware reps",
        help="Team size at which a team's culture varies by the culture spread: smaller teams "
        "vary more (a few open or guarded reps set the tone), larger ones less.",
        source="evidence:lamb-2016; the story's team of 8; a team's mean has a standard error of "
        "one over the root of its size [U]",
    )
    wall_touch_shock: float = _p(
        0.003, 0.0, 0.2, unit="per touch", label="Wall rise per touch", group="hardware reps",
        help="Wall rise each time the specialist calls (or asks to call) into a rep's accounts, "
        "without credit or rules.",
        source="evidence:zoltners-2011-who-owns-customers; a threat to the rep's renewal raises "
        "guarding; size estimated [U]",
    )
    asked_touch_factor: float = _p(
        0.5, 0.0, 1.0, unit="x touch", label="Touch factor when asked first",
        group="hardware reps",
        help="Multiplier on the wall rise per call when the specialist asked the rep first.",
        source="evidence:lamb-2016; beat 7, a call the rep was told about upsets him less; size "
        "estimated [U]",
    )
    rules_touch_factor: float = _p(
        0.3, 0.0, 1.0, unit="x touch", label="Touch factor under rules", group="hardware reps",
        help="Multiplier on the wall rise per call when written rules of engagement say who "
        "calls which accounts.",
        source="evidence:zoltners-2011-who-owns-customers; enforced rules lower guarding; size "
        "estimated [U]",
    )
    deal_taken_shock: float = _p(
        0.05, 0.0, 0.5, unit="per deal", label="Wall rise per deal taken", group="hardware reps",
        help="Wall rise when the specialist closes a managed deal in a rep's account and the "
        "rep earns nothing from it.",
        source="evidence:zoltners-2011-who-owns-customers; a deal in his account without credit "
        "threatens the relationship; size estimated [U]",
    )
    wall_relax_days: float = _p(
        30.0, 5.0, 365.0, unit="days", label="Wall settling time", group="hardware reps",
        help="Time constant with which a wall drifts toward its policy-driven resting level.",
        source="estimate: walls settle within about a month [U]",
    )
    wall_block_level: float = _p(
        0.65, 0.3, 0.95, unit="0-1", label="Wall-off level", group="hardware reps",
        help="Wall height at which a rep walls off all their accounts.",
        source="evidence:lamb-2016; beat 10, the '100-foot wall' by day 30; level estimated [U]",
    )
    wall_hysteresis: float = _p(
        0.1, 0.0, 0.3, unit="0-1", label="Wall hysteresis", group="hardware reps",
        help="How far a wall must fall below the complaint or wall-off level before the rep "
        "stops complaining or opens his book again.",
        source="estimate: a rep who walled off his book needs a clear change before opening it "
        "again [U]",
    )
    launch_surprise: float = _p(
        0.08, 0.0, 0.5, unit="0-1", label="Launch surprise", group="hardware reps",
        help="Lasting rise of every rep's guard (and wall) on launch day when the reps learn "
        "of the role that day: the owner did not work out the role with them before the launch.",
        source="evidence:lamb-2016; beat 3, the reps learn of the role on day one; size "
        "estimated [U]",
    )
    history_wall_effect: float = _p(
        0.04, 0.0, 0.2, unit="per failure", label="Wall per failed specialist",
        group="hardware reps",
        help="Extra guard (where walls settle) of every rep for each specialist who fails in "
        "the seat during the run: his successor meets harder walls.",
        source="evidence:lamb-2016; beat 9, two specialists failed before; size estimated [U]",
    )
    intro_rate: float = _p(
        0.585, 0.0, 1.0, unit="intros/workday", label="Intro rate", group="hardware reps",
        help="Warm intros a fully motivated, fully trained rep with no wall offers per workday.",
        source="estimate: about one warm intro a workday from a willing, trained rep; "
        "posterior median of the calibration [U]",
    )
    goodwill: float = _p(
        0.0, 0.0, 1.0, unit="0-1", label="Goodwill", group="hardware reps",
        help="A typical team's motivation to introduce the specialist with no credit, planning "
        "or training.",
        source="estimate: a typical team introduces nobody unasked [U]",
    )
    culture_goodwill: float = _p(
        4.87, 0.0, 10.0, unit="goodwill per wall", label="Goodwill from an open culture",
        group="hardware reps",
        help="Rise of the team's goodwill per unit its culture is more open than the open-culture "
        "level (the same draw that lowers its walls).",
        source="evidence:lamb-2016; if eight of ten dealerships have the problem, a few teams "
        "cooperate unasked (the author's opinion); size estimated; posterior median of the "
        "calibration [U]",
    )
    open_culture_level: float = _p(
        0.10, 0.0, 0.5, unit="wall", label="Open-culture level", group="hardware reps",
        help="How much lower than typical a team's walls must be before its reps introduce the "
        "specialist unasked.",
        source="estimate: only clearly open teams introduce the specialist unasked [U]",
    )
    credit_wall_weight: float = _p(
        0.4, 0.0, 2.0, unit="wall per credit share", label="Wall relief per credit",
        group="hardware reps",
        help="Fall of a rep's resting wall per unit of the share of a managed deal's commission "
        "he earns (his credit).",
        source="evidence:zoltners-2011-who-owns-customers; "
        "evidence:zoltners-2006-incentive-compensation; credit drives cooperation; size "
        "estimated [U]",
    )
    credit_motivation_weight: float = _p(
        0.8, 0.0, 3.0, unit="motivation per credit share", label="Intro drive per credit",
        group="hardware reps",
        help="Rise of a rep's motivation to introduce the specialist per unit of his credit "
        "share.",
        source="evidence:zoltners-2011-who-owns-customers; "
        "evidence:zoltners-2006-incentive-compensation; credit drives cooperation; size "
        "estimated [U]",
    )
    planning_motivation_weight: float = _p(
        0.4, 0.0, 1.0, unit="motivation", label="Intro drive from joint planning",
        group="hardware reps",
        help="Rise of a rep's motivation to introduce from joint account planning, times the "
        "leading manager's leadership.",
        source="evidence:kotter-1995-leading-change; a plan shared before the launch wins "
        "support; size estimated [U]",
    )
    untrained_spotting: float = _p(
        0.3, 0.0, 1.0, unit="0-1", label="Spotting without training", group="hardware reps",
        help="Share of managed-services opportunities in his book an untrained rep notices "
        "(full training: all of them); a rep can only introduce what he notices.",
        source="estimate: an untrained rep notices a minority of the opportunities in his book "
        "[U]",
    )
    intro_lease_horizon_days: int = _p(
        365, 30, 1825, unit="days", label="Warm-lead lease horizon", group="hardware reps",
        help="Reps (intros) and the specialist (calls into our customers, seen in the CRM) "
        "prefer customers whose lease ends within this many days.",
        source="evidence:walters-2009-mps-selling; copier decisions wait for the lease end, "
        "about a year out [C]",
    )
    rep_program_minutes: float = _p(
        30.0, 0.0, 240.0, unit="min/workday", label="Rep time for the program",
        group="hardware reps",
        help="Minutes a workday a rep gives to the program: answering permission calls and "
        "making intros.",
        source="estimate: half an hour of a rep's workday for the program [U]",
    )
    permission_answer_minutes: float = _p(
        3.0, 0.0, 30.0, unit="min/request", label="Rep time per permission call",
        group="hardware reps",
        help="Rep minutes to answer one request to call into his accounts.",
        source="evidence:lamb-2016; beat 7, the rep is asked before every call; minutes "
        "estimated [U]",
    )
    intro_minutes: float = _p(
        20.0, 0.0, 120.0, unit="min/intro", label="Rep time per intro", group="hardware reps",
        help="Rep minutes to set up one warm introduction.",
        source="estimate: a short call or e-mail to set up an introduction [U]",
    )
    shared_win_relief: float = _p(
        0.10, 0.0, 0.5, unit="per win", label="Wall drop per shared win", group="hardware reps",
        help="Wall fall when a managed deal closes in the rep's account and the rep gets credit.",
        source="evidence:zoltners-2011-who-owns-customers; shared wins lower guarding; size "
        "estimated [U]",
    )
    rep_managed_selling: float = _p(
        0.0, 0.0, 1.0, unit="share", label="Reps selling managed services",
        group="hardware reps",
        help="Share of renewals at which a trained hardware rep pitches managed services.",
        source="evidence:syderys-2009-mps-compensation; reps paid on boxes prefer selling "
        "another copier; share estimated [U]",
    )
    rep_managed_effectiveness: float = _p(
        0.15, 0.0, 1.0, unit="x specialist", label="Rep managed effectiveness",
        group="hardware reps",
        help="A copier rep's managed close rate relative to a specialist's.",
        source="evidence:service-leadership-2016-q2-trends; retraining copier reps to sell "
        "managed IT does not work; the factor is our reading [B]",
    )
    # ---------------------------------------------------------------- specialist
    specialist_seats: int = _p(
        1, 0, 3, unit="people", label="Specialist seats", group="specialist",
        help="Managed-services specialists the owner hires (0: no specialist).",
        source="evidence:lamb-2016; one specialist in the seat [C]",
    )
    specialist_skill: float = _p(
        1.0, 0.5, 1.5, unit="x average", label="Specialist skill", group="specialist",
        help="Multiplier on the specialist's meeting and close rates.",
        source="estimate: an average hire [U]",
    )
    skill_spread: float = _p(
        0.35, 0.0, 0.6, unit="log-sd", label="Skill spread between hires", group="specialist",
        help="Log-normal spread of each hire's skill around the specialist skill.",
        source="evidence:sbi-new-hire-ramp; evidence:cso-insights-2013-quota; ramp and quota "
        "attainment vary widely across hires; spread estimated [U]",
    )
    selling_minutes: float = _p(
        360.0, 60.0, 480.0, unit="min/workday", label="Selling time", group="specialist",
        help="The specialist's time budget: minutes a workday (five workdays a week) for "
        "meetings, travel, hand-offs, permission calls, open-territory hardware and dials.",
        source="estimate: six hours of a workday for selling work [U]",
    )
    travel_minutes: float = _p(
        45.0, 0.0, 240.0, unit="min/visit", label="Travel per visit", group="specialist",
        help="Travel time added to every customer visit (appointment, assessment, proposal).",
        source="estimate: a local territory, 45 minutes added to each visit [U]",
    )
    assessment_minutes: float = _p(
        120.0, 15.0, 480.0, unit="min", label="Minutes per assessment visit",
        group="specialist",
        help="Specialist time on site for a print or IT assessment.",
        source="estimate: two hours on site for an assessment [U]",
    )
    proposal_minutes: float = _p(
        90.0, 15.0, 480.0, unit="min", label="Minutes per proposal", group="specialist",
        help="Specialist time to build and present a proposal.",
        source="estimate: an hour and a half to build and present a proposal [U]",
    )
    handoff_minutes: float = _p(
        60.0, 0.0, 480.0, unit="min", label="Minutes per implementation hand-off",
        group="specialist",
        help="Specialist time to hand a signed contract over to the service team.",
        source="estimate: an hour to hand a contract to the service team [U]",
    )
    diary_meeting_share: float = _p(
        0.75, 0.1, 1.0, unit="share", label="Diary share for meetings", group="specialist",
        help="Largest share of a workday's selling minutes the specialist lets meetings take.",
        source="estimate: meetings take at most three quarters of the selling day [U]",
    )
    new_meeting_share: float = _p(
        0.5, 0.1, 1.0, unit="share of diary", label="Diary share for first meetings",
        group="specialist",
        help="Largest share of a day's diary that first appointments may fill, keeping room "
        "for the assessments, proposals and hand-offs of opportunities already open.",
        source="estimate: half the diary is kept for opportunities already open [U]",
    )
    meeting_lead_days: int = _p(
        2, 1, 14, unit="days", label="Meeting lead time", group="specialist",
        help="Earliest day after booking on which a first appointment can take place.",
        source="estimate: first appointments are booked at least two days out [U]",
    )
    lead_patience_days: int = _p(
        14, 1, 60, unit="days", label="Lead patience", group="specialist",
        help="Longest wait for a slot in the specialist's diary before a prospect cools and the "
        "opportunity is lost.",
        source="estimate: a prospect waits about two weeks for a slot [U]",
    )
    dial_minutes: float = _p(
        4.0, 1.0, 15.0, unit="min/dial", label="Minutes per dial", group="specialist",
        help="Time for one dial including logging it in the CRM.",
        source="estimate: four minutes a dial including the CRM entry [U]",
    )
    cold_connect_rate: float = _p(
        0.099, 0.01, 0.5, unit="probability", label="Cold connect rate", group="specialist",
        help="Share of cold dials that reach a person.",
        source="evidence:belkins-2025-cold-calling; 9.9 % of dials connect [B]",
    )
    conversation_rate: float = _p(
        0.58, 0.1, 1.0, unit="probability", label="Conversation rate", group="specialist",
        help="Share of connects that become conversations.",
        source="evidence:belkins-2025-cold-calling; 58 % of connects become conversations [B]",
    )
    cold_meeting_rate: float = _p(
        0.046, 0.005, 0.5, unit="probability", label="Cold meeting rate", group="specialist",
        help="Share of cold conversations that book a first appointment.",
        source="evidence:belkins-2025-cold-calling; 4.6 % of conversations book a meeting [B]",
    )
    own_account_preference: float = _p(
        0.7, 0.0, 1.0, unit="share", label="Calls into own customers", group="specialist",
        help="Share of dials the specialist aims at our own customers while any rep is open.",
        source="evidence:lamb-2016; beat 10, our own customers are the most approachable; share "
        "estimated [U]",
    )
    warm_lead_ratio: float = _p(
        2.34, 1.0, 5.0, unit="x cold", label="Warm advantage (whole funnel)",
        group="specialist",
        help="Lead-to-deal rate of our own customers relative to cold prospects, applied once "
        "across the funnel.",
        source="evidence:implisit-2014-referrals; lead-to-deal 3.63 % for referrals against 1.55 "
        "% for web leads [B]",
    )
    warm_close_share: float = _p(
        1.0, 0.0, 1.0, unit="share of log-ratio", label="Warm advantage at the close",
        group="specialist",
        help="Share of the warm advantage (on a log scale) that acts at the close; the rest "
        "acts on connects and meetings.",
        source="evidence:implisit-2014-referrals; opportunity-to-deal 14.7 % against 6 % already "
        "carries the whole lead-to-deal advantage [B]",
    )
    intro_meeting_rate: float = _p(
        0.247, 0.05, 1.0, unit="probability", label="Intro meeting rate", group="specialist",
        help="Share of a rep's warm intros (referral leads) that become a first appointment "
        "(an opportunity). With the warm close rate this gives the referral lead-to-deal rate.",
        source="evidence:implisit-2014-referrals; 3.63 % of referral leads become deals and "
        "14.7 % of referral opportunities do, so 24.7 % of referral leads become opportunities "
        "[B]",
    )
    assessment_rate: float = _p(
        0.6, 0.1, 1.0, unit="probability", label="Appointment to assessment",
        group="specialist", help="Share of first appointments that go on to an assessment.",
        source="estimate: a majority of first appointments go on to an assessment [U]",
    )
    proposal_rate: float = _p(
        0.8, 0.1, 1.0, unit="probability", label="Assessment to proposal", group="specialist",
        help="Share of assessments that end in a proposal.",
        source="estimate: most assessments end in a proposal [U]",
    )
    opp_to_deal_cold: float = _p(
        0.06, 0.01, 0.6, unit="probability", label="Cold opportunity-to-deal",
        group="specialist", help="Share of cold first appointments that become deals (our own "
        "customers: times the warm advantage at the close).",
        source="evidence:implisit-2014-referrals; 6 % of opportunities become deals on average "
        "[B]",
    )
    discovery_days: int = _p(
        10, 1, 60, unit="days", label="Discovery", group="specialist",
        help="Days from first appointment to the start of the assessment.",
        source="evidence:mps-stage-durations; discovery takes 1-2 weeks [C]",
    )
    assessment_days: int = _p(
        42, 7, 120, unit="days", label="Assessment (MPS)", group="specialist",
        help="Length of a print assessment.",
        source="evidence:mps-stage-durations; a print audit takes 4-8 weeks [C]",
    )
    proposal_days: int = _p(
        17, 3, 60, unit="days", label="Proposal", group="specialist",
        help="Days from the assessment to the customer's decision.",
        source="evidence:mps-stage-durations; a proposal takes 2-3 weeks [C]",
    )
    mit_cycle_days: int = _p(
        420, 90, 720, unit="days", label="Managed IT cycle", group="specialist",
        help="Length of a managed IT sales cycle from appointment to decision.",
        source="evidence:msp-economics-pages; 12-18 months for an 80-150-seat managed IT deal "
        "[C]",
    )
    close_window_days: int = _p(
        180, 0, 540, unit="days", label="Decision window", group="specialist",
        help="Days before lease end within which a customer will decide on a managed deal.",
        source="evidence:mps-contract-pages; renewal talk opens about 6 months before the end "
        "[C]",
    )
    postpone_share: float = _p(
        0.6, 0.0, 1.0, unit="probability", label="Postpone to lease end", group="specialist",
        help="Chance that a customer outside the decision window postpones to the lease end.",
        source="evidence:walters-2009-mps-selling; managed print decisions are often put off to "
        "the lease end; share estimated [C]",
    )
    appointment_minutes: float = _p(
        60.0, 15.0, 480.0, unit="min", label="Minutes per meeting", group="specialist",
        help="Specialist time per first appointment (travel excluded).",
        source="estimate: an hour per first appointment [U]",
    )
    implementation_days: int = _p(
        45, 5, 180, unit="days", label="Implementation time", group="specialist",
        help="Days to implement a signed managed contract before it goes live.",
        source="estimate: about six weeks from signature to a live contract [U]",
    )
    implementation_capacity: int = _p(
        6, 1, 50, unit="contracts", label="Implementation capacity", group="specialist",
        help="Managed contracts the service team can implement at once.",
        source="estimate: a small service team implements a handful of contracts at once [U]",
    )
    hardware_time_share: float = _p(
        0.3, 0.0, 0.8, unit="share", label="Open-territory time", group="specialist",
        help="Share of the specialist's selling time spent on hardware in the open territory.",
        source="evidence:lamb-2016; beat 4, the open territory as a fallback; share estimated "
        "[U]",
    )
    cut_hardware_pressure: float = _p(
        1.5, 1.0, 3.0, unit="x", label="Hardware time once pushed to it", group="specialist",
        help="Multiplier on open-territory time once the salary is cut or the owner answers "
        "the call for help by pointing to hardware.",
        source="evidence:lamb-2016; beats 4, 8 and 11, the owner points to hardware to "
        "survive; size estimated [U]",
    )
    hardware_win_rate: float = _p(
        0.10, 0.0, 0.5, unit="probability", label="Open-territory win rate",
        group="specialist",
        help="Chance that the specialist wins an open-territory account at its lease end.",
        source="estimate: the specialist wins few open-territory accounts [U]",
    )
    reservation_income: float = _p(
        72000.0, 20000.0, 200000.0, unit="$/year", label="Reservation income",
        group="specialist",
        help="Mean of the hires' reservation incomes: the expected yearly income below which a "
        "hire's quit hazard rises.",
        source="evidence:msp-success-cissel-sales-pay; between a $50k base and the $100-110k a "
        "seller earns at quota; level estimated [U]",
    )
    reservation_spread: float = _p(
        0.08, 0.0, 0.5, unit="log-sd", label="Reservation income spread", group="specialist",
        help="Log-normal spread of each hire's reservation income around the mean.",
        source="estimate: hires differ a little in the income they need [U]",
    )
    quit_base_rate: float = _p(
        0.05, 0.0, 1.0, unit="share/year", label="Base quit rate", group="specialist",
        help="Yearly quit rate of a specialist whose income and morale are where he wants "
        "them (the quit hazard's baseline).",
        source="evidence:sbi-new-hire-ramp; well below the ~40 % a year all-cause sales "
        "turnover, which includes reps who miss quota or are let go [U]",
    )
    quit_gap_weight: float = _p(
        4.0, 0.0, 30.0, unit="per gap", label="Job search per income gap",
        group="specialist",
        help="How fast the specialist's job search grows with the relative shortfall of "
        "expected income below his reservation income: his search effort is "
        "1 - exp(-(this x gap + the morale weight x lost morale)).",
        source="evidence:pysd-sales-agent; income below what a seller needs drives quitting; "
        "size estimated [U]",
    )
    quit_morale_weight: float = _p(
        3.0, 0.0, 20.0, unit="per morale", label="Job search per lost morale",
        group="specialist",
        help="How fast the specialist's job search grows with morale lost below its starting "
        "level (see the income-gap weight).",
        source="estimate: lost morale sends a seller looking [U]",
    )
    job_offer_rate: float = _p(
        8.0, 0.0, 52.0, unit="offers/year", label="Job offers when searching hard",
        group="specialist",
        help="Outside offers a year that a specialist searching full time gets (times his "
        "search effort when he searches less). He takes an offer that pays more than he "
        "expects to earn here, discounted by the morale he lost. 8 a year is a mean search of "
        "about 6.5 weeks.",
        source="evidence:shrm-time-to-fill; evidence:bls-cps-unemployment-duration; posts fill "
        "in about 6 weeks, a median job search lasts 9-10 weeks; rate estimated [U]",
    )
    offer_spread: float = _p(
        0.15, 0.0, 0.6, unit="log spread", label="Spread of outside offers",
        group="specialist",
        help="Spread (log-normal) of what outside offers pay around the specialist's "
        "reservation income.",
        source="estimate: offers for the same seller differ by about 15 % [U]",
    )
    morale_initial: float = _p(
        0.8, 0.1, 1.0, unit="0-1", label="Starting morale", group="specialist",
        help="A new hire's morale, and the level it recovers toward.",
        source="estimate: a new hire starts keen [U]",
    )
    morale_recovery_days: float = _p(
        60.0, 5.0, 365.0, unit="days", label="Morale recovery time", group="specialist",
        help="Time constant with which morale drifts back to its starting level.",
        source="estimate: morale recovers over about two months [U]",
    )
    morale_rejection: float = _p(
        0.01, 0.0, 0.2, unit="per rejection", label="Morale lost per rejection",
        group="specialist",
        help="Morale lost each time an opportunity of his dies (no assessment, no proposal, "
        "a lost proposal).",
        source="estimate: a small loss for each lost opportunity [U]",
    )
    morale_denied: float = _p(
        0.005, 0.0, 0.1, unit="per day", label="Morale lost to denied permission",
        group="specialist",
        help="Morale lost on each workday on which a rep refuses a request to call his "
        "accounts.",
        source="evidence:lamb-2016; beats 6-7, refusals to let him call wear him down; size "
        "estimated [U]",
    )
    morale_cut: float = _p(
        0.35, 0.0, 1.0, unit="0-1", label="Morale lost to the salary cut", group="specialist",
        help="Morale lost when the base salary is cut.",
        source="evidence:lamb-2016; beat 12, he can't afford the cut; size estimated [U]",
    )
    morale_no_help: float = _p(
        0.2, 0.0, 1.0, unit="0-1", label="Morale lost when help never comes",
        group="specialist",
        help="Morale lost when the owner answers a call for help with a shrug.",
        source="evidence:lamb-2016; beat 11, help asked for and not given; size estimated [U]",
    )
    morale_intro: float = _p(
        0.02, 0.0, 0.2, unit="per intro", label="Morale gained per warm intro",
        group="specialist",
        help="Morale gained each time a rep brings him a customer: help that comes.",
        source="estimate: help that comes lifts morale a little [U]",
    )
    morale_deal: float = _p(
        0.1, 0.0, 0.5, unit="per deal", label="Morale gained per deal", group="specialist",
        help="Morale gained with each managed deal closed.",
        source="estimate: a closed deal lifts morale [U]",
    )
    help_threshold: float = _p(
        0.5, 0.0, 1.0, unit="share of target", label="Call for help below", group="specialist",
        help="Share of the comp plan's pace (the target for his tenure so far) below which the "
        "specialist's forecast (booked plus his pipeline's expected MRR) makes him feel behind "
        "and ask for help.",
        source="evidence:lamb-2016; beat 11, the quota is out of reach at day 60 and he asks for "
        "help; threshold estimated [U]",
    )
    help_rate: float = _p(
        4.63, 0.0, 10.0, unit="asks/month", label="Call for help when far behind",
        group="specialist",
        help="How readily the specialist asks for help: calls for help a month when his "
        "forecast has fallen behind the comp plan's pace by the whole call-for-help share of "
        "his next review's target (less when he is less behind; never when he keeps pace).",
        source="evidence:lamb-2016; beat 11, he asks around day 60, weeks after falling behind; "
        "rate estimated; posterior median of the calibration [U]",
    )
    hiring_lag_days: int = _p(
        75, 0, 365, unit="days", label="Hiring lag", group="specialist",
        help="Days to hire a successor after a specialist leaves.",
        source="estimate: about two and a half months to hire a successor [U]",
    )
    # ---------------------------------------------------------------- sales manager
    manager_leadership: float = _p(
        0.1, 0.0, 1.0, unit="0-1", label="Manager leadership", group="sales manager",
        help="0 keeps the peace (ask-permission, avoids conflict); 1 leads (rules, joint "
        "account planning, coaching, steps in).",
        source="evidence:lamb-2016; beats 7 and 13, the manager keeps the peace; level estimated "
        "[U]",
    )
    manager_leads_at: float = _p(
        0.5, 0.0, 1.0, unit="0-1", label="Leadership that leads", group="sales manager",
        help="Leadership at or above which the manager steps in, coaches and runs joint "
        "account planning instead of keeping the peace.",
        source="estimate: a manager leads from the middle of the scale up [U]",
    )
    coaching_relief: float = _p(
        0.05, 0.0, 0.5, unit="wall per week", label="Coaching relief", group="sales manager",
        help="Weekly wall fall of the most protective rep, times leadership, from a leading "
        "manager's coaching.",
        source="estimate: coaching lowers a guarded rep's wall slowly [U]",
    )
    step_in_relief: float = _p(
        0.15, 0.0, 0.5, unit="wall", label="Stepping-in relief", group="sales manager",
        help="Wall fall of a complaining rep, times leadership, when a leading manager steps in.",
        source="estimate: a manager stepping in lowers a complaining rep's wall [U]",
    )
    permission_rule: str = _p(
        "manager", label="Ask-permission rule", group="sales manager",
        help="Who decides whether the specialist must ask the rep before each call: the "
        "manager's style, never, or always.",
        source="evidence:lamb-2016; beat 7, a heads-up to the rep before every call [C]",
        choices=PERMISSION_RULES,
    )
    lookup_minutes: float = _p(
        2.0, 0.0, 15.0, unit="min/contact", label="Owner look-up time", group="sales manager",
        help="Time to look up the owning rep of a contact in the CRM, under the rule.",
        source="evidence:lamb-2016; beat 7, looking up the owner of each contact; minutes "
        "estimated [U]",
    )
    permission_minutes: float = _p(
        6.0, 0.0, 60.0, unit="min/request", label="Permission call time",
        group="sales manager",
        help="Time to reach the rep and ask before calling one of their accounts.",
        source="evidence:lamb-2016; beat 7, calling the rep first; minutes estimated [U]",
    )
    complaint_level: float = _p(
        0.55, 0.1, 0.95, unit="0-1", label="Complaint level", group="sales manager",
        help="Wall height at which a rep complains to the manager (a conflict); he complains "
        "again each week his wall stays there.",
        source="evidence:lamb-2016; beat 6, reps tell him to stop calling; level estimated [U]",
    )
    rule_after_complaints: int = _p(
        3, 1, 20, unit="weeks", label="Weeks of complaints before the rule",
        group="sales manager",
        help="Weeks in which reps complained before a peace-keeping manager imposes the "
        "ask-permission rule (complaints in the same week count once: a bad day is not a "
        "pattern).",
        source="evidence:lamb-2016; beats 6-7, reps (more than one) tell him to stop calling, "
        "and after two weeks on the phones the manager makes the rule; count estimated [U]",
    )
    # ---------------------------------------------------------------- owner
    owner_today_priority: float = _p(
        0.8, 0.0, 1.0, unit="0-1", label="Owner's focus on today", group="owner",
        help="0 builds the future; 1 protects today's hardware business.",
        source="evidence:lamb-2016; beat 8, the owner points to hardware to survive; level "
        "estimated [U]",
    )
    rules_of_engagement: bool = _p(
        False, label="Rules of engagement", group="owner",
        help="Written rules of who calls which accounts and how reps are kept informed.",
        source="evidence:lamb-2016; the author's prescription: work out the kinks before acting "
        "[C]",
    )
    credit_policy: str = _p(
        "none", label="Credit for reps", group="owner",
        help="Credit for reps on managed deals in their accounts: none, split (shares sum to "
        "100 %), double (both full), team quota.",
        source="evidence:worldatwork-sales-crediting; "
        "evidence:zoltners-2006-incentive-compensation; split, double or team credit; "
        "overlays get 25-50 % [B/C]",
        choices=CREDIT_POLICIES,
    )
    rep_training: float = _p(
        0.0, 0.0, 1.0, unit="0-1", label="Rep training", group="owner",
        help="How well reps are trained to spot managed-services opportunities (raises the share "
        "they notice from the untrained level to all).",
        source="estimate: the reps start untrained, as in the story [U]",
    )
    open_territory: bool = _p(
        True, label="Open hardware territory", group="owner",
        help="The specialist may sell hardware in the open territory as a fallback.",
        source="evidence:lamb-2016; beat 4, an open hardware territory as a fallback [C]",
    )
    specialist_territory: str = _p(
        "all", label="Specialist territory", group="owner",
        help="Which accounts the specialist may call: all, or only competitor-held ones.",
        source="estimate: a strategy lever; the story's specialist may call every account [U]",
        choices=TERRITORIES,
    )
    intervention: str = _p(
        "never", label="Owner intervention", group="owner",
        help="When the owner steps in: never, reactive (after conflicts), or before launch "
        "(he announces the role and works out its objectives with every rep before the hire, "
        "and steps in again on every conflict).",
        source="evidence:lamb-2016; the author's prescription: the owner leads the change [C]",
        choices=INTERVENTIONS,
    )
    intervention_after_conflicts: int = _p(
        3, 1, 20, unit="conflicts", label="Conflicts before reacting", group="owner",
        help="Conflicts after which a reactive owner intervenes.",
        source="estimate: a reactive owner steps in after a few conflicts [U]",
    )
    intervention_strength: float = _p(
        0.3, 0.0, 1.0, unit="0-1", label="Intervention strength", group="owner",
        help="Lasting drop of every rep's guard (and wall) from an owner's intervention, "
        "scaled by his focus on the future.",
        source="estimate: an owner's word lowers the walls partly [U]",
    )
    abandon_after_failures: int = _p(
        2, 1, 10, unit="specialists", label="Abandon after failures", group="owner",
        help="Failed specialists in this run after which the owner abandons the program.",
        source="evidence:lamb-2016; beat 9, two specialists failed and the owner tried again; "
        "count estimated [U]",
    )
    launch_cover: float = _p(
        1.0, 0.1, 5.0, unit="x salary", label="Launch bar", group="owner",
        help="The year-one bar: managed deals signed in the first 12 months must bring gross "
        "profit over their contract term of at least this many years of the specialist's base "
        "salary.",
        source="estimate: the owner's question 'does he pay for himself?' [U]",
    )
    success_month: int = _p(
        36, 6, 120, unit="month", label="Month the launch is judged on money", group="owner",
        help="The launch succeeds when the first specialist is still in the seat at month 12 "
        "and, over the three months up to this month, the managed gross profit (after "
        "delivery cost and the service it replaces, with the leases taken over) covers the "
        "program's running cost (pay with burden, running costs, managed overhead). Judged "
        "at the run's last month when the run is shorter.",
        source="evidence:ryne-2016-managed-services-program; "
        "evidence:greatamerica-2017-dippell; a dealer should be on a path to profit in managed "
        "services within 36 months; dealers' IT practices were still unprofitable after three "
        "years [C]",
    )
    # ---------------------------------------------------------------- comp plan
    base_salary: float = _p(
        75000.0, 30000.0, 200000.0, unit="$/year", label="Specialist base salary",
        group="comp plan", help="The specialist's base salary before any adjustment.",
        source="evidence:lamb-2016; evidence:msp-success-cissel-sales-pay; 'a good salary'; a "
        "managed-services seller's base is about $50k, $100-110k at quota [C]",
    )
    commission_months: float = _p(
        2.0, 0.0, 6.0, unit="months of MRR", label="Managed commission", group="comp plan",
        help="Commission per managed deal, in months of its recurring revenue.",
        source="evidence:msp-commission-overviews; plans of 1-2 months of recurring revenue, "
        "among others [C/U]",
    )
    hardware_commission: float = _p(
        0.35, 0.0, 0.6, unit="share of GP", label="Hardware commission", group="comp plan",
        help="Commission on hardware gross profit (first year) for reps and the specialist.",
        source="evidence:rolla-dunn-2009-mps-compensation; evidence:enx-2013-reps-starving; "
        "30-40 % of gross profit [B]",
    )
    rep_credit_share: float = _p(
        0.35, 0.0, 1.0, unit="share of commission", label="Rep credit share",
        group="comp plan",
        help="Share of a managed deal's commission a rep earns on deals in his book when the "
        "credit policy pays reps (split, double, team).",
        source="evidence:worldatwork-sales-crediting; overlay credit of 25-50 % of deal value "
        "[B/C]",
    )
    monthly_quota_mrr: float = _p(
        100.0, 0.0, 20000.0, unit="$/month", label="Monthly quota", group="comp plan",
        help="New managed MRR the specialist must book per month once the quota applies.",
        source="estimate: about one managed print deal every two months at the trade's "
        "prices (a four-device account's service and supplies less the discount, about "
        "$185 a month) [U]",
    )
    quota_ramp_days: int = _p(
        0, 0, 365, unit="days", label="Quota ramp", group="comp plan",
        help="Days after hire before the quota starts to accrue.",
        source="evidence:sbi-new-hire-ramp; 51 % of new hires reach full productivity in 3-6 "
        "months; the story's plan has no ramp [B]",
    )
    first_milestone_day: int = _p(
        90, 30, 365, unit="days", label="First milestone", group="comp plan",
        help="Tenure day of the first quota review.",
        source="evidence:lamb-2016; beat 5, the first review at about 90 days [C]",
    )
    milestone_interval_days: int = _p(
        90, 30, 365, unit="days", label="Milestone interval", group="comp plan",
        help="Days between later quota reviews.",
        source="estimate: quarterly reviews after the first [U]",
    )
    performance_cut: float = _p(
        0.2, 0.0, 0.6, unit="share", label="Salary cut on a miss", group="comp plan",
        help="Share of base salary cut when a milestone is missed.",
        source="evidence:lamb-2016; beat 5, the base is cut on a miss; size estimated [C/U]",
    )
    extension_days: int = _p(
        30, 0, 180, unit="days", label="Extension", group="comp plan",
        help="Grace period after a missed milestone before the salary cut, granted to a "
        "specialist who asked for help: back on target by then, he keeps his salary.",
        source="evidence:lamb-2016; beat 11, he asks for help and gets a 30-day extension [C]",
    )
    review_delay_days: int = _p(
        14, 0, 60, unit="days", label="Review delay", group="comp plan",
        help="An owner holds each quota review up to this many days after its date (uniformly): "
        "reviews are about quarterly, not to the day.",
        source="estimate: a busy owner holds a review within two weeks of its date [U]",
    )
    fire_after_misses: int = _p(
        4, 1, 10, unit="reviews", label="Let go after misses", group="comp plan",
        help="Consecutive missed quota reviews after which the owner lets the specialist go.",
        source="evidence:lamb-2016; in the story he quits before he is fired; count estimated "
        "[U]",
    )
    # ---------------------------------------------------------------- money
    payroll_burden: float = _p(
        0.25, 0.10, 0.45, unit="share of salary", label="Payroll burden", group="money",
        help="Employer taxes and benefits paid on top of the specialist's base salary.",
        source="evidence:bls-ecec-2018; employers under 100 workers add about 21-23 % to a "
        "salary (insurance, retirement, legally required benefits); 25 % is a little above "
        "it [A/U]",
    )
    rep_training_cost: float = _p(
        3000.0, 0.0, 20000.0, unit="$/rep", label="Training cost per rep", group="money",
        help="Cost of training one hardware rep in managed services fully (rep training 1; "
        "less training costs proportionally less), paid at the launch when there is a program.",
        source="estimate: two to three days of course and time off the road, $1,000-$6,000 [U]",
    )
    hiring_cost: float = _p(
        12000.0, 0.0, 60000.0, unit="$/hire", label="Hiring cost per specialist",
        group="money",
        help="Recruiting, onboarding and product training of each specialist hired.",
        source="evidence:shrm-2022-cost-per-hire; recruiting alone costs about $4,700 for the "
        "average hire (all jobs); a seller found through a recruiter, with onboarding and "
        "product training, costs more: $5,000-$25,000 [B/U]",
    )
    implementation_months_mps: float = _p(
        1.0, 0.0, 6.0, unit="months of MRR", label="Implementation labour, managed print",
        group="money",
        help="Onboarding and implementation labour (audit, device moves, set-up) of a new "
        "managed print contract, in months of its recurring revenue, paid when it is signed.",
        source="estimate: 0.5-2 months of revenue [U]",
    )
    implementation_months_mit: float = _p(
        3.0, 0.0, 9.0, unit="months of MRR", label="Implementation labour, managed IT",
        group="money",
        help="Onboarding and implementation labour (tooling, clean-up, migration) of a new "
        "managed IT contract, in months of its recurring revenue, paid when it is signed.",
        source="evidence:msp-economics-pages; evidence:rewiredmsp-client-payback; a contract is "
        "unprofitable for its first 6-9 months: 6-9 months of gross profit at 40 % is "
        "2.4-3.6 months of revenue [C]",
    )
    program_cost_monthly: float = _p(
        1500.0, 0.0, 20000.0, unit="$/month", label="Program running cost", group="money",
        help="Tools, marketing and the proposal builder of the managed-services program, each "
        "month while the program runs.",
        source="estimate: $500-$5,000 a month [U]",
    )
    service_share: float = _p(
        0.3, 0.0, 0.6, unit="share of hardware billing", label="Service and supplies replaced",
        group="money",
        help="Share of an account's hardware lease-and-service billing that is service and "
        "supplies, which its managed print contract replaces (cannibalisation, lost at the "
        "service margin).",
        source="estimate: service and supplies are 20-50 % of a copier account's billing [U]",
    )
    discount_rate: float = _p(
        0.10, 0.0, 0.30, unit="share/year", label="Discount rate", group="money",
        help="Yearly rate at which future cash is discounted in the net present value.",
        source="estimate: a small private company's cost of capital, 8-15 % [U]",
    )
    overhead_share: float = _p(
        0.18, 0.05, 0.30, unit="share of hardware revenue", label="Overhead", group="money",
        help="Selling, general and administrative cost of the hardware business (reps' pay, "
        "rent, back office) as a share of its revenue, subtracted from gross profit to get the "
        "yearly earnings a buyer values.",
        source="evidence:slawetsky-2004-margin-squeeze; evidence:stasieczko-2017-ebit-multiple; "
        "SG&A near 32 % in a margin squeeze; set so a hardware dealer earns 5-12 % of "
        "revenue [U]",
    )
    hardware_multiple: float = _p(
        4.5, 3.0, 6.0, unit="x earnings", label="Value multiple, hardware dealer",
        group="money",
        help="What a buyer pays for a dealer without recurring managed revenue, as a multiple "
        "of yearly earnings (EBITDA).",
        source="evidence:enx-2017-sellers-market; buyers pay 3-6 x EBITDA [B]",
    )
    managed_multiple: float = _p(
        7.0, 4.0, 9.0, unit="x earnings", label="Value multiple, managed services",
        group="money",
        help="What a buyer pays for a business whose revenue is mostly contracted recurring "
        "managed services, as a multiple of yearly earnings.",
        source="evidence:print-it-reseller-137; evidence:msp-broker-valuation-guides; "
        "evidence:msp-valuation-pages; MSPs 7-9 x profit in small deals, 4-7 x EBITDA in the "
        "lower middle market [C]",
    )
    recurring_share_full: float = _p(
        0.6, 0.2, 1.0, unit="share of revenue", label="Recurring share for the full multiple",
        group="money",
        help="Share of revenue from managed contracts at which a buyer pays the full managed "
        "multiple; below it the multiple rises in proportion from the hardware multiple.",
        source="evidence:msp-broker-valuation-guides; the top of the range needs 60-65 % "
        "contracted recurring revenue [C]",
    )
    # ---------------------------------------------- money: managed-services unit economics
    mps_discount: float = _p(
        0.15, 0.0, 0.5, unit="share of the replaced billing", label="Managed print discount",
        group="money",
        help="Managed print replaces an account's service and supplies billing (the lease "
        "stays): its monthly price is that billing, on the day it signs, less this discount. "
        "Managed print is sold on savings, so the price never exceeds what the account paid.",
        source="estimate: managed print is sold on savings (one cost per page, supplies "
        "included), but no measured discount against the billing it replaces was found [U]",
    )
    service_margin: float = _p(
        0.50, 0.2, 0.7, unit="share", label="Service and supplies gross margin", group="money",
        help="Gross margin of the service and supplies part of an account's billing. The "
        "service and supplies a managed print contract replaces are lost at this margin, and "
        "the contract costs what that service cost to deliver.",
        source="evidence:rolla-dunn-2009-mps-compensation; "
        "evidence:printtrackerpro-toner-margins; managed print revenue is about 65 % supplies "
        "and 35 % service, toner earns 20-40 % and service labour more; about 50 % for the "
        "two is our estimate [C/U]",
    )
    mit_fee_per_seat: float = _p(
        160.0, 50.0, 400.0, unit="$/seat/month", label="Managed IT fee per seat",
        group="money",
        help="Monthly fee of a managed IT contract for each user (seat) at the account.",
        source="evidence:pharallax-msp-benchmark; evidence:stasieczko-mps-not-the-door; "
        "$150-185 a user a month on average, at least $160 a seat; a dealer new to IT prices "
        "near the bottom [C]",
    )
    mit_seats_per_account: float = _p(
        20.0, 1.0, 300.0, unit="seats", label="Seats per account", group="money",
        help="Mean number of users (seats) at an account, drawn log-normally across accounts "
        "when the market is created; a managed IT contract bills every seat.",
        source="evidence:stasieczko-mps-not-the-door; evidence:msp-economics-pages; a "
        "25-user client in one example, 80-150-seat deals the long, large ones; the mean of a "
        "copier dealer's accounts is our estimate [C/U]",
    )
    mit_seats_sigma: float = _p(
        0.7, 0.0, 1.5, unit="log-sd", label="Seats spread", group="money",
        help="Log-normal spread of seats across accounts.",
        source="estimate: offices from a few users to about a hundred [U]",
    )
    managed_overhead_share: float = _p(
        0.10, 0.0, 0.30, unit="share of managed revenue", label="Managed services overhead",
        group="money",
        help="Selling, service-management and administration cost of running the managed "
        "business (account management, the service desk's management, billing) as a share "
        "of managed revenue, beyond the specialist's pay and the program's running costs. "
        "Booked each month, so it lowers both the cash and the earnings a buyer values.",
        source="estimate: no benchmark of an MSP's overhead was found; set so a managed "
        "business at a 40 % gross margin keeps well under its margin as earnings [U]",
    )
    # ---------------------------------------------------------------- simulation
    years: float = _p(
        3.0, 0.25, 20.0, unit="years", label="Horizon", group="simulation",
        help="Simulated time; one step is one calendar day.",
        source="estimate: a design choice: three years show the first specialists, their "
        "successors and the first renewals [U]",
    )
    money_years: float = _p(
        5.0, 1.0, 20.0, unit="years", label="Money horizon", group="simulation",
        help="Years the demo report simulates for its money views (cash flow, payback, value "
        "at exit); other runs use the simulated years.",
        source="evidence:greatamerica-2017-dippell; dealers' IT practices were still "
        "unprofitable after three years, so the money views need about five [C]",
    )

    def __post_init__(self) -> None:
        for spec in field_specs():
            object.__setattr__(self, spec.name, spec.coerce(getattr(self, spec.name)))

    # ------------------------------------------------------------------ helpers
    def replace(self, **overrides: Any) -> Params:
        """Return a copy with ``overrides`` applied (validated; unknown names rejected).

        Args:
            **overrides: Field values to change.

        Returns:
            A new validated ``Params``.
        """
        check_names(overrides)
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain ``dict`` (JSON-serialisable)."""
        return dataclasses.asdict(self)

    def diff(self, other: Params) -> dict[str, tuple[Any, Any]]:
        """Fields whose values differ from ``other``, as ``{name: (self, other)}``."""
        a, b = self.to_dict(), other.to_dict()
        return {k: (a[k], b[k]) for k in a if a[k] != b[k]}

    @property
    def launch_target_mrr(self) -> float:
        """Managed MRR signed in year one that meets the launch bar (``launch_cover``).

        Contracts bring ``managed_margin`` of their MRR as gross profit for
        ``managed_term_months``; the bar is ``launch_cover`` years of base salary.
        """
        return self.launch_cover * self.base_salary / (
            self.managed_margin * self.managed_term_months
        )

    @property
    def horizon_days(self) -> int:
        """Number of simulated days."""
        return int(round(self.years * 365))

    @property
    def n_own_accounts(self) -> int:
        """Accounts held by the dealership at the start."""
        return self.n_reps * self.accounts_per_rep


_SPECS: tuple[FieldSpec, ...] | None = None


def field_specs() -> tuple[FieldSpec, ...]:
    """Metadata of every ``Params`` field, in declaration order."""
    global _SPECS
    if _SPECS is None:
        _SPECS = tuple(
            FieldSpec(name=f.name, default=f.default, **f.metadata)
            for f in dataclasses.fields(Params)
        )
    return _SPECS


def spec(name: str) -> FieldSpec:
    """Metadata of one field.

    Args:
        name: Field name.

    Raises:
        ValueError: If there is no such field.
    """
    for s in field_specs():
        if s.name == name:
            return s
    raise ValueError(f"{name!r}: unknown parameter (see 'dealersim params' for the list)")


def check_names(overrides: dict[str, Any]) -> None:
    """Raise a one-line ``ValueError`` for the first unknown field name in ``overrides``."""
    names = {s.name for s in field_specs()}
    for key in overrides:
        if key not in names:
            raise ValueError(f"{key!r}: unknown parameter (see 'dealersim params' for the list)")


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse ``field=value`` (as given to ``--set``) into a checked ``(name, value)`` pair.

    Raises:
        ValueError: One line naming the problem.
    """
    if "=" not in text:
        raise ValueError(f"--set: {text!r} is not of the form field=value")
    name, _, value = text.partition("=")
    name = name.strip()
    if not name or not value.strip():
        raise ValueError(f"--set: {text!r} is not of the form field=value")
    return name, spec(name).parse(value)


def params_table(fmt: str = "markdown") -> str:
    """Render the parameter table, grouped, for the docs or the terminal.

    Args:
        fmt: ``"markdown"`` or ``"text"``.

    Returns:
        The table as one string.
    """
    lines: list[str] = []
    for group in GROUPS:
        specs = [s for s in field_specs() if s.group == group]
        if fmt == "markdown":
            lines += [f"### {group.capitalize()}", ""]
            lines += [
                "| field | default | range | unit | meaning | source |",
                "|---|---|---|---|---|---|",
            ]
            for s in specs:
                rng = s.allowed().replace("one of ", "")
                lines.append(
                    f"| `{s.name}` | {format_value(s.default)} | {rng} | {s.unit} | "
                    f"**{s.label}.** {s.help} | {s.source} |"
                )
            lines.append("")
        else:
            lines.append(f"[{group}]")
            for s in specs:
                lines.append(
                    f"  {s.name:<30} {format_value(s.default):>10}  {s.allowed():<28} {s.unit:<16}"
                    f" {s.label} ({s.grade})"
                )
            lines.append("")
    return "\n".join(lines)


def format_value(v: Any) -> str:
    """A parameter value as written in tables and on the command line."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
