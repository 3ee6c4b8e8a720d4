"""Tests of the model's params and strategies: metadata, validation, parsing."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dealersim.model.params import (
    GROUPS,
    FieldSpec,
    Params,
    field_specs,
    parse_assignment,
    spec,
)
from dealersim.model.strategies import make_params, strategy_names, strategy_overrides

SPECS = field_specs()
NUMERIC = [s for s in SPECS if s.kind in ("float", "int")]
BOOLS = [s for s in SPECS if s.kind == "bool"]
CHOICES = [s for s in SPECS if s.kind == "choice"]
GRADE = re.compile(r"\[[ABCU](/[ABCU])*\]$")
ANNOTATION_OF_KIND = {"float": "float", "int": "int", "bool": "bool", "choice": "str"}


def ids(specs: list[FieldSpec]) -> list[str]:
    return [s.name for s in specs]


def bound_text(x: float) -> str:
    """How a bound should read in a message: integers without a decimal point."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def range_texts(s: FieldSpec) -> list[str]:
    """Strings every error message about field ``s`` must contain: its allowed values."""
    if s.kind in ("float", "int"):
        return [bound_text(s.low), bound_text(s.high)]
    if s.kind == "bool":
        return ["true", "false"]
    return [str(c) for c in s.choices]


# ------------------------------------------------------------------ the field list itself
def test_field_list_is_sane():
    names = [s.name for s in SPECS]
    assert len(names) == len(set(names)) > 0
    assert names == [f.name for f in dataclasses.fields(Params)]
    assert {s.kind for s in SPECS} <= {"float", "int", "bool", "choice"}
    # every kind is present, so the kind-specific tests below are not vacuous
    assert NUMERIC and BOOLS and CHOICES
    assert {s.kind for s in NUMERIC} == {"float", "int"}
    labels = [s.label for s in SPECS]
    assert len(labels) == len(set(labels)), "two fields share a label"


@pytest.mark.parametrize("s", SPECS, ids=ids(SPECS))
def test_default_within_bounds_or_choices(s: FieldSpec):
    if s.kind in ("float", "int"):
        assert s.low is not None and s.high is not None
        assert s.low < s.high, "empty range"
        assert s.low <= s.default <= s.high
        assert s.choices is None
        if s.kind == "int":
            assert isinstance(s.default, int) and not isinstance(s.default, bool)
            assert float(s.low).is_integer() and float(s.high).is_integer()
        else:
            assert isinstance(s.default, float)
    elif s.kind == "bool":
        assert isinstance(s.default, bool)
        assert s.choices == (False, True)
        assert s.low is None and s.high is None
    else:
        assert s.choices and len(s.choices) == len(set(s.choices)) >= 2
        assert s.default in s.choices
        assert all(isinstance(c, str) and c for c in s.choices)
        assert s.low is None and s.high is None
    # the default Params carries the declared default
    assert getattr(Params(), s.name) == s.default


@pytest.mark.parametrize("s", SPECS, ids=ids(SPECS))
def test_metadata_complete(s: FieldSpec):
    annotation = {f.name: f.type for f in dataclasses.fields(Params)}[s.name]
    assert annotation == ANNOTATION_OF_KIND[s.kind], "kind disagrees with the type annotation"
    assert s.label.strip() and s.label == s.label.strip()
    assert s.group in GROUPS
    assert s.help.strip() and s.help.rstrip().endswith("."), "help should be a sentence"
    assert "\n" not in s.help and "\n" not in s.label
    assert GRADE.search(s.source), f"source {s.source!r} does not end in a grade like [B]"
    assert s.grade in ("A", "B", "C", "U")
    if s.kind in ("float", "int"):
        assert s.unit.strip(), "numeric field without a unit"
    else:
        # bools and choices are described by their choices instead of a unit
        assert s.choices
    assert s.allowed().strip()


def test_every_group_is_used():
    assert {s.group for s in SPECS} == set(GROUPS)


# ------------------------------------------------------------------ validation
def out_of_range_values(s: FieldSpec) -> list[float]:
    width = s.high - s.low
    below = s.low - max(1.0, width)
    above = s.high + max(1.0, width)
    values = [below, above]
    if s.kind == "float":
        # just outside: the nearest floats beyond each bound
        values += [math.nextafter(s.low, -math.inf), math.nextafter(s.high, math.inf)]
    else:
        values += [int(s.low) - 1, int(s.high) + 1]
    return values


@pytest.mark.parametrize("s", NUMERIC, ids=ids(NUMERIC))
def test_out_of_range_rejected(s: FieldSpec, assert_one_line_error):
    for value in out_of_range_values(s):
        with pytest.raises(ValueError) as excinfo:
            Params(**{s.name: value})
        assert_one_line_error(excinfo, s.name, range_texts(s))


@pytest.mark.parametrize("s", NUMERIC, ids=ids(NUMERIC))
def test_bounds_themselves_accepted(s: FieldSpec):
    for value in (s.low, s.high):
        p = Params(**{s.name: value})
        got = getattr(p, s.name)
        assert got == value
        assert type(got) is (int if s.kind == "int" else float)


@pytest.mark.parametrize("s", NUMERIC, ids=ids(NUMERIC))
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_rejected(s: FieldSpec, value: float, assert_one_line_error):
    with pytest.raises(ValueError) as excinfo:
        Params(**{s.name: value})
    assert_one_line_error(excinfo, s.name, range_texts(s))


@pytest.mark.parametrize("s", NUMERIC, ids=ids(NUMERIC))
def test_wrong_type_rejected_numeric(s: FieldSpec, assert_one_line_error):
    mid = (s.low + s.high) / 2
    wrong = [str(mid), None, True, [mid], complex(mid, 0)]
    if s.kind == "int":
        # a non-integral number for an integer field (within the range)
        wrong.append(math.floor(mid) + 0.5)
    for value in wrong:
        with pytest.raises(ValueError) as excinfo:
            Params(**{s.name: value})
        assert_one_line_error(excinfo, s.name, range_texts(s))


@pytest.mark.parametrize("s", BOOLS, ids=ids(BOOLS))
def test_wrong_type_rejected_bool(s: FieldSpec, assert_one_line_error):
    for value in ["true", "yes", None, 0.5, 2, -1]:
        with pytest.raises(ValueError) as excinfo:
            Params(**{s.name: value})
        assert_one_line_error(excinfo, s.name, range_texts(s))


@pytest.mark.parametrize("s", CHOICES, ids=ids(CHOICES))
def test_unknown_choice_rejected(s: FieldSpec, assert_one_line_error):
    first = s.choices[0]
    for value in ["no-such-choice", first.upper(), f" {first}", "", None, 1, math.nan]:
        if value in s.choices:  # pragma: no cover - guards against a choice named like these
            continue
        with pytest.raises(ValueError) as excinfo:
            Params(**{s.name: value})
        assert_one_line_error(excinfo, s.name, range_texts(s))


@pytest.mark.parametrize("s", CHOICES, ids=ids(CHOICES))
def test_every_choice_accepted(s: FieldSpec):
    for c in s.choices:
        assert getattr(Params(**{s.name: c}), s.name) == c


def test_message_with_newline_in_value_stays_one_line(assert_one_line_error):
    s = CHOICES[0]
    with pytest.raises(ValueError) as excinfo:
        Params(**{s.name: "two\nlines"})
    assert_one_line_error(excinfo, s.name)


def test_int_field_accepts_integral_float_and_stores_int():
    s = next(x for x in NUMERIC if x.kind == "int")
    value = float(int(s.low) + 1)
    got = getattr(Params(**{s.name: value}), s.name)
    assert got == int(value) and type(got) is int


def test_float_field_accepts_int_and_stores_float():
    s = next(x for x in NUMERIC if x.kind == "float")
    value = math.ceil(s.low) if math.ceil(s.low) <= s.high else None
    assert value is not None
    got = getattr(Params(**{s.name: value}), s.name)
    assert got == value and type(got) is float


def test_numpy_scalars_accepted():
    """Sweeps (SALib samples, ``np.arange`` grids, batch_run) hand over numpy scalars."""
    n = next(s for s in NUMERIC if s.kind == "int")
    f = next(s for s in NUMERIC if s.kind == "float")
    b = BOOLS[0]
    p = Params(**{
        n.name: np.int64(int(n.low)),
        f.name: np.float64(f.low),
        b.name: np.bool_(not b.default),
    })
    assert getattr(p, n.name) == int(n.low) and type(getattr(p, n.name)) is int
    assert getattr(p, f.name) == f.low and type(getattr(p, f.name)) is float
    assert getattr(p, b.name) is (not b.default)


def test_unknown_field_rejected_by_constructor():
    with pytest.raises(TypeError):
        Params(no_such_field=1)


# ------------------------------------------------------------------ frozen / helpers
def test_params_frozen():
    p = Params()
    for s in (NUMERIC[0], BOOLS[0], CHOICES[0]):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(p, s.name, s.default)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.new_attribute = 1  # type: ignore[attr-defined]
    assert p == Params()
    assert hash(p) == hash(Params())


def test_replace_validates_and_rejects_unknown(assert_one_line_error):
    p = Params()
    s = NUMERIC[0]
    q = p.replace(**{s.name: s.high})
    assert getattr(q, s.name) == s.high and getattr(p, s.name) == s.default
    assert q.diff(p) == {s.name: (s.high, s.default)}
    with pytest.raises(ValueError) as excinfo:
        p.replace(**{s.name: s.high + max(1.0, s.high - s.low)})
    assert_one_line_error(excinfo, s.name, range_texts(s))
    with pytest.raises(ValueError) as excinfo:
        p.replace(no_such_field=1)
    assert_one_line_error(excinfo, "no_such_field")


def test_to_dict_round_trip():
    p = make_params("planned")
    assert Params(**p.to_dict()) == p
    assert list(p.to_dict()) == [s.name for s in SPECS]


def test_spec_lookup():
    for s in SPECS:
        assert spec(s.name) is s
    with pytest.raises(ValueError):
        spec("no_such_field")


# ------------------------------------------------------------------ strategies
def test_strategies_build_valid_params():
    names = strategy_names()
    assert {"hardware_only", "overlay", "planned"} <= set(names)
    built = {}
    for name in names:
        overrides = strategy_overrides(name)
        p = make_params(name)
        assert isinstance(p, Params)
        for key, value in overrides.items():
            assert getattr(p, key) == value, f"{name}: {key} not applied"
        # every other field keeps its default
        for s in SPECS:
            if s.name not in overrides:
                assert getattr(p, s.name) == s.default
        built[name] = p
    assert make_params("overlay") == Params(), "overlay is the defaults"
    assert built["planned"] != built["overlay"]
    assert built["hardware_only"].specialist_seats == 0


def test_make_params_overrides_win_over_preset():
    preset = strategy_overrides("planned")
    key = next(iter(preset))
    s = spec(key)
    other = next(
        v for v in ((s.choices or ()) + (s.default, s.low, s.high)) if v is not None
        and v != preset[key]
    )
    assert getattr(make_params("planned", **{key: other}), key) == other


def test_make_params_rejects_unknown_strategy(assert_one_line_error):
    with pytest.raises(ValueError) as excinfo:
        make_params("no_such_strategy")
    assert_one_line_error(excinfo, "no_such_strategy", strategy_names())


def test_make_params_rejects_unknown_field(assert_one_line_error):
    with pytest.raises(ValueError) as excinfo:
        make_params("overlay", no_such_field=3)
    assert_one_line_error(excinfo, "no_such_field")


def test_make_params_rejects_bad_value(assert_one_line_error):
    s = NUMERIC[0]
    with pytest.raises(ValueError) as excinfo:
        make_params("planned", **{s.name: math.nan})
    assert_one_line_error(excinfo, s.name, range_texts(s))


# ------------------------------------------------------------------ parse_assignment
FLOAT_FIELD = next(s for s in NUMERIC if s.kind == "float")
INT_FIELD = next(s for s in NUMERIC if s.kind == "int")
BOOL_FIELD = BOOLS[0]
CHOICE_FIELD = CHOICES[0]


def test_parse_each_kind():
    f, i, b, c = FLOAT_FIELD, INT_FIELD, BOOL_FIELD, CHOICE_FIELD
    mid = (f.low + f.high) / 2
    name, value = parse_assignment(f"{f.name}={mid!r}")
    assert (name, value) == (f.name, mid) and type(value) is float
    assert parse_assignment(f" {f.name} = {mid!r} ") == (f.name, mid)
    k = int(i.low) + 1
    name, value = parse_assignment(f"{i.name}={k}")
    assert (name, value) == (i.name, k) and type(value) is int
    assert parse_assignment(f"{i.name}={k}.0")[1] == k
    for text, expected in [("true", True), ("False", False), ("yes", True), ("no", False),
                           ("on", True), ("OFF", False), ("1", True), ("0", False)]:
        name, value = parse_assignment(f"{b.name}={text}")
        assert (name, value) == (b.name, expected) and type(value) is bool
    for choice in c.choices:
        assert parse_assignment(f"{c.name}={choice}") == (c.name, choice)


@st.composite
def valid_assignments(draw):
    s = draw(st.sampled_from(SPECS))
    if s.kind == "float":
        value = draw(st.floats(s.low, s.high, allow_nan=False))
        text = repr(value)
    elif s.kind == "int":
        value = draw(st.integers(int(s.low), int(s.high)))
        text = str(value)
    elif s.kind == "bool":
        value = draw(st.booleans())
        text = str(value).lower()
    else:
        value = draw(st.sampled_from(s.choices))
        text = value
    return s, value, text


@settings(max_examples=100)
@given(valid_assignments())
def test_parse_round_trips_valid_values(case):
    s, value, text = case
    name, parsed = parse_assignment(f"{s.name}={text}")
    assert name == s.name and parsed == value
    # and the parsed value builds valid Params
    assert getattr(Params(**{name: parsed}), name) == value


@pytest.mark.parametrize(
    "text, must_contain",
    [
        (f"{INT_FIELD.name}", ["field=value"]),
        (f"{INT_FIELD.name}:3", ["field=value"]),
        ("=3", ["field=value"]),
        (f"{INT_FIELD.name}=", ["field=value"]),
        (f"{INT_FIELD.name}=   ", ["field=value"]),
        ("", ["field=value"]),
        (f"{INT_FIELD.name}=abc", [INT_FIELD.name, *range_texts(INT_FIELD)]),
        (f"{INT_FIELD.name}=3=4", [INT_FIELD.name]),
        (f"{INT_FIELD.name}={int(INT_FIELD.low)}.5", [INT_FIELD.name]),
        (f"{INT_FIELD.name}={int(INT_FIELD.high) + 1}", [INT_FIELD.name, *range_texts(INT_FIELD)]),
        (f"{FLOAT_FIELD.name}=nan", [FLOAT_FIELD.name, *range_texts(FLOAT_FIELD)]),
        (f"{FLOAT_FIELD.name}=inf", [FLOAT_FIELD.name, *range_texts(FLOAT_FIELD)]),
        (f"{FLOAT_FIELD.name}={FLOAT_FIELD.high * 2 + 1}",
         [FLOAT_FIELD.name, *range_texts(FLOAT_FIELD)]),
        (f"{BOOL_FIELD.name}=maybe", [BOOL_FIELD.name, "true or false"]),
        (f"{BOOL_FIELD.name}=2", [BOOL_FIELD.name, "true or false"]),
        (f"{CHOICE_FIELD.name}=no-such-choice", [CHOICE_FIELD.name, *CHOICE_FIELD.choices]),
        ("no_such_field=1", ["no_such_field"]),
    ],
)
def test_parse_rejects_malformed(text, must_contain, assert_one_line_error):
    with pytest.raises(ValueError) as excinfo:
        parse_assignment(text)
    assert_one_line_error(excinfo, must_contain)


@pytest.mark.parametrize("name", ["two\nlines", "tab\there", "carriage\rreturn"])
def test_unknown_field_message_one_line_for_odd_names(name, assert_one_line_error):
    """Unknown names are echoed back; the message must stay on one line whatever they hold."""
    with pytest.raises(ValueError) as excinfo:
        make_params("overlay", **{name: 1})
    assert_one_line_error(excinfo)
    with pytest.raises(ValueError) as excinfo:
        parse_assignment(f"{name}=1")
    assert_one_line_error(excinfo)


CODE_NAME = re.compile(r"``|\b[a-z]+(?:_[a-z0-9]+)+\b")
"""A snake_case identifier or a reST literal: what an owner must not read on the page."""


def test_help_texts_an_owner_reads_carry_no_code_names():
    # the page shows every parameter's help under its control and every KPI's help in its
    # glossary and cards; they speak of other settings by their labels, not their field names
    from dealersim.model.kpis import SERIES, SUMMARY

    bad = [(s.name, CODE_NAME.findall(s.help)) for s in field_specs()
           if CODE_NAME.search(s.help)]
    bad += [(k.name, CODE_NAME.findall(k.help)) for k in (*SUMMARY, *SERIES)
            if CODE_NAME.search(k.help)]
    assert not bad, bad
    assert CODE_NAME.search("set by ``culture_spread``") and CODE_NAME.search("rep_training 1")
