"""Solara components of the owner's dashboard.

``Dashboard`` is the whole page (also embedded in Jupyter). Controls are generated from
``Params`` metadata through :mod:`dealersim.dashboard.state`; every change recomputes the full
horizon in a background task (the busy bar shows while it runs) and redraws. The play control
replays the stored result day by day; nothing is simulated again per frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import solara
import solara.lab

from dealersim.dashboard import charts
from dealersim.dashboard import state as st
from dealersim.model import scenario as scenario_io
from dealersim.model.params import SEED_MAX, parse_whole
from dealersim.model.params import spec as field_spec

PLAY_SPEEDS = {"1 day": 1, "1 week": 7, "1 month": 30}
"""Replay speeds: days advanced per frame."""
PLAY_FRAME_SECONDS = 0.15
VIEWS = ("Charts", "Account map", "Story", "Side by side", "How sure?")

CARD_COLOURS = {True: "#e8f5e9", False: "#ffebee", None: "#f5f5f5"}


# ---------------------------------------------------------------------------- controls
@solara.component
def FieldControl(control: st.Control, value: Any, on_change: Callable[[str, Any], None]):
    """One generated control: slider, number box, switch or select, with its help as a hint."""
    s = control.spec
    label = f"{s.label} ({s.unit})" if s.unit else s.label
    if control.widget == "slider":
        label = f"{label}: {_fmt(value)}"
    error, set_error = solara.use_state("")

    def commit(v: Any) -> None:
        try:
            clean = s.parse(v) if isinstance(v, str) else s.coerce(v)
        except ValueError as exc:
            set_error(str(exc))
            return
        set_error("")
        on_change(s.name, clean)

    with solara.Div(classes=["ds-control", f"ds-field-{s.name}"]):
        if control.widget == "switch":
            solara.Switch(label=label, value=bool(value), on_value=commit)
        elif control.widget == "select":
            solara.Select(label=label, values=list(s.choices or ()), value=value,
                          on_value=commit, dense=True)
        elif control.widget == "slider" and s.kind == "int":
            solara.SliderInt(label, value=int(value), min=int(s.low), max=int(s.high),
                             step=1, on_value=commit)
        elif control.widget == "slider":
            solara.SliderFloat(label, value=float(value), min=float(s.low), max=float(s.high),
                               step=float(control.step or 0.01), on_value=commit)
        else:
            solara.InputText(label, value=_fmt(value), on_value=commit, dense=True,
                             error=error or False,
                             message=f"{s.allowed()}: {s.help}" if not error else None)
        if control.widget != "number":
            solara.Text(s.help, style={"font-size": "11px", "color": "#666"})


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


@solara.component
def ControlGroup(title: str, controls: list[st.Control], values: dict[str, Any],
                 on_change: Callable[[str, Any], None], expand: bool = False):
    """A collapsible group of controls."""
    with solara.Details(summary=f"{title} ({len(controls)})", expand=expand):
        for c in controls:
            FieldControl(c, values[c.name], on_change)


@solara.component
def ScenarioBox(strategy: str, seed: int, values: dict[str, Any],
                on_load: Callable[[scenario_io.Scenario], None]):
    """Save the current settings as a TOML scenario, or load one (upload or paste)."""
    error, set_error = solara.use_state("")
    loaded, set_loaded = solara.use_state("")
    text, set_text = solara.use_state("")

    def toml_text() -> str:
        params = st.Params(**values)
        return scenario_io.Scenario.from_params(strategy, int(seed), params).to_toml()

    def load_text(raw: str, where: str) -> None:
        try:
            sc = scenario_io.loads(raw)
        except ValueError as exc:
            set_error(f"{where}: {exc}")
            set_loaded("")
            return
        set_error("")
        set_loaded(f"loaded {where}: strategy {sc.strategy}, seed {sc.seed}, "
                   f"{len(sc.params)} overrides")
        on_load(sc)

    def on_file(info: Any) -> None:
        data = info["file_obj"].read(scenario_io.MAX_BYTES + 1)
        if len(data) > scenario_io.MAX_BYTES:
            set_error(f"{info['name']}: larger than {scenario_io.MAX_BYTES // 1024} kB")
            return
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError:
            set_error(f"{info['name']}: not UTF-8 text; expected a TOML scenario file")
            return
        load_text(raw, info["name"])

    with solara.Details(summary="Scenario file (save / load TOML)", expand=False):
        solara.FileDownload(toml_text, filename="dealersim-scenario.toml",
                            label="Save scenario", mime_type="application/toml")
        solara.FileDrop(label="Drop a scenario .toml here to load it", on_file=on_file,
                        lazy=False)
        solara.InputTextArea("…or paste scenario TOML", value=text, on_value=set_text,
                             rows=4, continuous_update=True)
        solara.Button("Load pasted scenario", on_click=lambda: load_text(text, "pasted text"),
                      outlined=True, classes=["ds-load-scenario"])
        if error:
            solara.Error(error, classes=["ds-scenario-error"])
        elif loaded:
            solara.Success(loaded)


# ---------------------------------------------------------------------------- outcome
@solara.component
def HeadlineCards(cards: list[st.Card]):
    """The five headline cards in one row."""
    with solara.Row(gap="8px", style={"flex-wrap": "wrap"}):
        for c in cards:
            with solara.Div(classes=["ds-card", f"ds-card-{c.key}"], style={
                "background": CARD_COLOURS[c.good], "border-radius": "6px",
                "padding": "8px 12px", "min-width": "170px", "flex": "1",
            }):
                solara.Text(c.title, style={"font-size": "12px", "color": "#555"})
                solara.Text(c.value, classes=[f"ds-value-{c.key}"],
                            style={"font-size": "22px", "font-weight": "600",
                                   "display": "block"})
                solara.Text(c.detail, style={"font-size": "11px", "color": "#666"})


@solara.component
def Figure(fig_fn: Callable[[], Any], dependencies: list[Any]):
    """A matplotlib ``Figure`` built by ``fig_fn`` (memoised on ``dependencies``), as PNG."""
    fig = solara.use_memo(fig_fn, dependencies=dependencies)
    solara.FigureMatplotlib(fig, dependencies=dependencies, format="png")


@solara.component
def ReplayBar(horizon: int, day: int | None, set_day: Callable[[int | None], None],
              playing: bool, set_playing: Callable[[bool], None], speed: str,
              set_speed: Callable[[str], None]):
    """Play / pause, a day slider and the replay speed."""
    shown = horizon if day is None else day
    with solara.Row(style={"align-items": "center"}, classes=["ds-replay"]):
        solara.Button("Pause" if playing else "Play", icon_name="mdi-pause" if playing
                      else "mdi-play", on_click=lambda: _toggle_play(playing, day, horizon,
                                                                     set_day, set_playing),
                      color="primary", classes=["ds-play"])
        solara.Button("Show end", on_click=lambda: (set_playing(False), set_day(None)),
                      text=True, classes=["ds-end"])
        with solara.Div(style={"flex": "1", "min-width": "240px"}):
            solara.SliderInt("Replay day", value=shown, min=0, max=horizon,
                             on_value=lambda d: (set_playing(False),
                                                 set_day(None if d >= horizon else d)))
        solara.Select("Speed (per frame)", values=list(PLAY_SPEEDS), value=speed,
                      on_value=set_speed, dense=True, style={"max-width": "160px"})
        solara.Text(f"day {shown} of {horizon}", classes=["ds-day"])


def _toggle_play(playing: bool, day: int | None, horizon: int,
                 set_day: Callable[[int | None], None], set_playing: Callable[[bool], None]):
    if playing:
        set_playing(False)
        return
    if day is None or day >= horizon:
        set_day(0)
    set_playing(True)


@solara.component
def Story(events: Any, upto: int | None):
    """The event log as a timeline (day, who, what), filterable by actor."""
    actor, set_actor = solara.use_state(st.ALL_ACTORS)
    options = st.actor_options(events)
    if actor not in options:
        actor = st.ALL_ACTORS
    rows = st.filter_story(events, actor, upto)
    with solara.Row(style={"align-items": "center"}):
        solara.Select("Who", values=options, value=actor, on_value=set_actor, dense=True,
                      style={"max-width": "220px"})
        solara.Text(f"{len(rows)} events" + (f" up to day {upto}" if upto is not None else ""),
                    classes=["ds-story-count"])
    solara.DataFrame(rows, items_per_page=25)


@solara.component
def SideBySide(seed: int, values: dict[str, Any], upto: int | None):
    """Two configurations on the same seed, charts aligned (the consultant's view)."""
    left, set_left = solara.use_state(st.COMPARE_DEFAULT[0])
    right, set_right = solara.use_state(st.COMPARE_DEFAULT[1])
    own = {k: values[k] for k in st.DEALERSHIP_FIELDS} | {"years": values["years"]}
    key = (left, right, int(seed), tuple(sorted(own.items())))

    def run_both() -> list[st.Outcome]:
        return [st.run_config(s, seed, st.default_values(s) | own) for s in (left, right)]

    task = solara.lab.use_task(run_both, dependencies=[key], raise_error=False)
    with solara.Row(style={"align-items": "center"}):
        names = st.strategy_choices()
        solara.Select("Left", values=names, value=left, on_value=set_left, dense=True)
        solara.Select("Right", values=names, value=right, on_value=set_right, dense=True)
        solara.Text(f"same seed {seed}, your dealership's numbers on both sides")
    solara.ProgressLinear(task.pending)
    outcomes = task.latest
    if not outcomes:
        return
    bad = [o for o in outcomes if o.error]
    if bad:
        solara.Error("; ".join(f"{o.strategy}: {o.error}" for o in bad))
        return
    with solara.Columns([1, 1]):
        for o in outcomes:
            with solara.Div(classes=[f"ds-side-{o.strategy}"]):
                solara.Text(o.strategy, style={"font-weight": "600"})
                HeadlineCards(st.headline(o.result, upto))
    results = [o.result for o in outcomes]
    Figure(lambda: charts.side_by_side_figure(results, upto),
           dependencies=[id(results[0]), id(results[1]), upto])


@solara.component
def Replicates(strategy: str, seed: int, values: dict[str, Any]):
    """Run N replicates in the background on demand; show the success rate and its interval."""
    key = (strategy, int(seed), tuple(sorted(values.items())))

    def work() -> tuple[Any, st.ReplicateSummary | None, str | None]:
        try:
            return key, st.run_replicates(strategy, seed, values, st.REPLICATES), None
        except Exception as exc:  # noqa: BLE001 - shown in the page
            return key, None, " ".join(str(exc).split()) or type(exc).__name__

    task = solara.lab.use_task(work, dependencies=None, raise_error=False)
    done = task.latest
    solara.Markdown(
        f"One run is one possible history. This runs **{st.REPLICATES}** replicates of the "
        "current settings (seeds derived from your seed, as `dealersim compare` does) in the "
        "background and reports how often the launch succeeds, with a 95 % Wilson interval."
    )
    solara.Button(f"Run {st.REPLICATES} replicates", on_click=task, disabled=task.pending,
                  color="primary", classes=["ds-replicates"])
    if task.pending:
        solara.ProgressLinear(True)
        solara.Text("running replicates in the background…")
    if done is not None:
        got_key, summary, error = done
        if error:
            solara.Error(error)
        elif summary is not None:
            stale = "" if got_key == key else " (for earlier settings; run again)"
            solara.Success(f"{summary.text()}; {summary.seconds:.1f} s{stale}",
                           classes=["ds-replicate-result"])


# ---------------------------------------------------------------------------- the page
class _Callbacks:
    """Stable callbacks bound to the page's reactive values.

    Created once per page, so components that receive them are not re-rendered for nothing
    (reacton skips a component whose arguments did not change).
    """

    def __init__(self, strategy: Any, seed: Any, values: Any, seed_error: Any) -> None:
        self.strategy, self.seed, self.values, self.seed_error = strategy, seed, values, seed_error

    def set_field(self, name: str, value: Any) -> None:
        self.values.set({**self.values.value, name: value})

    def pick_strategy(self, name: str) -> None:
        self.values.set(st.apply_preset(name, self.values.value))
        self.strategy.set(name)

    def reset(self) -> None:
        self.pick_strategy(self.strategy.value)

    def set_seed(self, text: str) -> None:
        try:
            value = parse_whole(str(text), 0, SEED_MAX, "a whole number from 0 to 2**63 - 1")
        except ValueError as exc:
            self.seed_error.set(f"seed: {exc}")
            return
        self.seed_error.set("")
        self.seed.set(value)

    def load_scenario(self, sc: scenario_io.Scenario) -> None:
        self.values.set(sc.to_params().to_dict())
        self.strategy.set(sc.strategy)
        self.seed.set(int(sc.seed))


@solara.component
def ControlsPanel(strategy: str, seed: int, values: dict[str, Any], seed_error: str,
                  cb: _Callbacks):
    """The left column: preset, seed, scenario file, your dealership, then every group."""
    solara.Select("Strategy preset", values=st.strategy_choices(), value=strategy,
                  on_value=cb.pick_strategy, classes=["ds-strategy"])
    solara.InputText("Seed", value=str(seed), on_value=cb.set_seed,
                     error=seed_error or False, classes=["ds-seed"])
    solara.Button("Reset to preset", text=True, on_click=cb.reset)
    ScenarioBox(strategy, seed, values, cb.load_scenario)
    own = [st.control_for(field_spec(n)) for n in st.DEALERSHIP_FIELDS]
    ControlGroup("Your dealership", own, values, cb.set_field, expand=True)
    for group, controls in st.controls_by_group().items():
        rest = [c for c in controls if c.name not in st.DEALERSHIP_FIELDS]
        if rest:
            ControlGroup(group.capitalize(), rest, values, cb.set_field)


@solara.component
def OutcomePanel(strategy: str, seed: int, values: dict[str, Any]):
    """The right column: compute the full horizon in the background, then cards, replay, views."""
    view = solara.use_reactive(VIEWS[0])
    day = solara.use_reactive(None)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive("1 week")
    key = (strategy, int(seed), tuple(sorted(values.items())))

    def compute() -> st.Outcome:
        return st.run_config(key[0], key[1], dict(key[2]))

    task = solara.lab.use_task(compute, dependencies=[key], raise_error=False)
    outcome: st.Outcome | None = task.latest
    result = outcome.result if outcome is not None else None
    horizon = int(result.timeseries["day"].iloc[-1]) if result is not None else 0

    async def play() -> None:
        # the replay clock: frames come from the stored result, nothing is simulated again
        while playing.value:
            await asyncio.sleep(PLAY_FRAME_SECONDS)
            current = day.value if day.value is not None else 0
            nxt = current + PLAY_SPEEDS[speed.value]
            if nxt >= horizon:
                day.set(None)
                playing.set(False)
                return
            day.set(nxt)

    # keyed on ``playing`` only: a new result stops the replay through the effect below
    solara.lab.use_task(play, dependencies=[playing.value], raise_error=False)

    def reset_replay() -> None:
        day.set(None)
        playing.set(False)

    solara.use_effect(reset_replay, [id(result)])

    # a fixed structure (no conditional siblings above the charts), so the busy bar and
    # errors never re-mount the figures below them
    solara.ProgressLinear(task.pending, classes=["ds-busy"])
    solara.Text("computing the 3-year outcome…" if task.pending else "",
                classes=["ds-busy-text"], style={"font-size": "11px", "color": "#1976d2"})
    with solara.Div(classes=["ds-errors"]):
        if outcome is not None and outcome.error:
            solara.Error(f"The model could not run these settings: {outcome.error}",
                         classes=["ds-model-error"])
    if result is None:
        solara.Text("computing the first run…")
        return
    solara.Text(f"strategy {outcome.strategy}, seed {outcome.seed}: computed in "
                f"{outcome.seconds:.2f} s", classes=["ds-computed"],
                style={"font-size": "11px", "color": "#888"})
    HeadlineCards(st.headline(result, day.value))
    ReplayBar(horizon, day.value, day.set, playing.value, playing.set, speed.value, speed.set)
    solara.ToggleButtonsSingle(value=view, values=list(VIEWS), classes=["ds-views"])
    upto = day.value
    slug = view.value.lower().replace(" ", "-").strip("?")
    with solara.Div(classes=[f"ds-view-{slug}"]).key(slug):
        if view.value == "Charts":
            Figure(lambda: charts.main_figure(result, upto), dependencies=[id(result), upto])
        elif view.value == "Account map":
            Figure(lambda: charts.account_map_figure(result, upto),
                   dependencies=[id(result), upto])
        elif view.value == "Story":
            Story(result.events, upto)
        elif view.value == "Side by side":
            SideBySide(seed, values, upto)
        else:
            Replicates(strategy, seed, values)


@solara.component
def Dashboard(initial_strategy: str = st.DEFAULT_STRATEGY, initial_seed: int = 0):
    """The owner's dashboard: controls on the left, the 3-year outcome and its story on the right.

    Args:
        initial_strategy: Strategy preset the controls start from.
        initial_seed: Seed the page starts with.
    """
    strategy = solara.use_reactive(initial_strategy)
    seed = solara.use_reactive(int(initial_seed))
    values = solara.use_reactive(st.default_values(initial_strategy))
    seed_error = solara.use_reactive("")
    cb = solara.use_memo(lambda: _Callbacks(strategy, seed, values, seed_error), [])

    solara.Style(".ds-control { margin-bottom: 14px; } .v-expansion-panel-content__wrap "
                 "{ padding: 0 8px 8px; }")
    with solara.Column(style={"padding": "8px"}, classes=["ds-page"]):
        solara.Markdown("## dealersim: the owner's dashboard\n"
                        "Pick a launch policy and your dealership's numbers; the page runs the "
                        "whole 3-year horizon at once and tells its story.")
        with solara.Columns([1, 3]):
            with solara.Column(classes=["ds-controls"], style={
                    "max-height": "calc(100vh - 120px)", "overflow-y": "auto"}):
                ControlsPanel(strategy.value, seed.value, values.value, seed_error.value, cb)
            with solara.Column(classes=["ds-main"]):
                OutcomePanel(strategy.value, seed.value, values.value)
