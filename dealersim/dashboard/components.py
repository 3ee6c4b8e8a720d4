"""Solara components of the owner's dashboard.

``Dashboard`` is the whole page (also embedded in Jupyter). Controls are generated from
``Params`` metadata through :mod:`dealersim.dashboard.state` and :mod:`dealersim.dashboard.words`;
every change recomputes the full horizon in a background thread that a newer change cancels,
and the browser redraws the charts from data (ECharts), not pictures. The replay shows the
stored run day by day from its daily snapshots; nothing is simulated again per frame. A plan
pinned as the baseline (or a preset, a scenario file, the previous try) is run on the same
seed and every card shows the change against it.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import solara
import solara.lab
from ipyvuetify.extra import FileInput
from solara.components.echarts import EchartsWidget

from dealersim.dashboard import charts, words
from dealersim.dashboard import state as st
from dealersim.dashboard.upload import read_upload
from dealersim.model import scenario as scenario_io
from dealersim.model.params import GROUPS, SEED_MAX, parse_whole
from dealersim.model.params import spec as field_spec

PLAY_SPEEDS = {"1 day": 1, "1 week": 7, "1 month": 30}
"""Replay speeds: days advanced per frame."""
PLAY_FRAME_SECONDS = 0.15
"""The replay's intended frame interval."""
VIEWS = ("Charts", "Account map", "Compare", "Story", "How sure?")
NOTHING = "Nothing"
"""The 'Compare with' choice that shows no baseline."""
PREVIOUS = "Previous try"
CHART_HEIGHT = "300px"

CARD_COLOURS = {True: "#e8f5e9", False: "#ffebee", None: "#f5f5f5"}
CHANGE_COLOURS = {True: "#1b7a35", False: "#b3261e", None: "#555"}

CSS = """
.ds-page { padding: 6px 10px 56px; max-width: 100%; box-sizing: border-box; }
.ds-layout { display: grid; grid-template-columns: minmax(280px, 340px) minmax(0, 1fr);
             gap: 14px; align-items: start; }
.ds-controls { max-height: calc(100vh - 70px); overflow-y: auto; overflow-x: hidden;
               padding-right: 4px; }
.ds-main { min-width: 0; }
@media (max-width: 900px) {
  .ds-layout { grid-template-columns: minmax(0, 1fr); }
  .ds-controls { max-height: none; overflow: visible; }
}
.ds-cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr));
            gap: 8px; }
.ds-charts { display: grid; gap: 8px;
             grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); }
.ds-chart { min-width: 0; border: 1px solid #eee; border-radius: 6px; padding: 4px; }
.ds-stale { opacity: 0.4; pointer-events: none; }
.ds-jump { display: none; font-size: 13px; }
@media (max-width: 900px) { .ds-jump { display: inline-block; margin: 2px 0 6px; } }
.ds-control { margin-bottom: 10px; }
.ds-label { font-size: 13px; color: #333; display: block; }
.ds-help { font-size: 11px; color: #666; display: block; line-height: 1.3; }
.ds-bar { display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: center; margin: 6px 0; }
.ds-bar > * { min-width: 0; }
.ds-views.v-btn-toggle { flex-wrap: wrap; max-width: 100%; }
.v-expansion-panel-content__wrap { padding: 0 8px 8px; }
.ds-page .v-input__slider .v-input__slot { margin-bottom: 0; }
"""


# ---------------------------------------------------------------------------- controls
@solara.component
def FieldControl(control: st.Control, value: Any, error: str,
                 on_change: Callable[[str, Any], None],
                 on_invalid: Callable[[str, str], None]):
    """One generated control in plain words: slider, number box, switch or select."""
    s = control.spec

    def commit(v: Any) -> None:
        try:
            clean = words.read_number(s, v) if isinstance(v, str) else s.coerce(v)
        except ValueError as exc:
            on_invalid(s.name, f"{s.label}: {exc}")
            return
        on_change(s.name, clean)

    with solara.Div(classes=["ds-control", f"ds-field-{s.name}"]):
        if control.widget == "switch":
            solara.Switch(label=s.label, value=bool(value), on_value=commit)
        elif control.widget == "select":
            titles = words.choice_titles(s)
            solara.Select(label=s.label, values=list(titles), value=words.choice_title(s, value),
                          on_value=lambda t: commit(titles[t]), dense=True)
        elif control.widget == "slider":
            solara.Text(words.label_with_value(s, value), classes=["ds-label"])
            if s.kind == "int":
                solara.SliderInt("", value=int(value), min=int(s.low), max=int(s.high),
                                 step=1, on_value=commit)
            elif words.is_percent(s):
                solara.SliderFloat("", value=round(float(value) * 100, 6),
                                   min=float(s.low) * 100, max=float(s.high) * 100,
                                   step=float(control.step or 0.1),
                                   on_value=lambda v: commit(round(v / 100, 8)))
            else:
                solara.SliderFloat("", value=float(value), min=float(s.low), max=float(s.high),
                                   step=float(control.step or 0.01), on_value=commit)
        else:
            unit = words.unit_words(s)
            solara.InputText(f"{s.label} ({unit})" if unit else s.label,
                             value=words.shown_value(s, value), on_value=commit, dense=True,
                             error=bool(error),
                             message=error or f"{words.allowed_words(s)}. {s.help}")
        if control.widget != "number":
            solara.Text(words.field_line(s), classes=["ds-help"])


@solara.component
def Fold(title: str, children: list[Any] | None = None, expand: bool = False,
         classes: list[str] | None = None):
    """A foldable section that builds its content only while open (a light page)."""
    open_, set_open = solara.use_state(expand)
    with solara.Div(classes=["ds-fold", *(classes or [])]):
        solara.Button(("▾ " if open_ else "▸ ") + title, text=True, small=True,
                      on_click=lambda: set_open(not open_), classes=["ds-fold-title"],
                      style={"text-transform": "none", "font-weight": "600",
                             "padding": "0 4px", "max-width": "100%"})
        if open_:
            solara.Div(style={"padding": "0 4px 4px 10px"}, children=list(children or []))


@solara.component
def ControlGroup(title: str, names: list[str], values: dict[str, Any], invalid: dict[str, str],
                 cb: _Callbacks, expand: bool = False):
    """A foldable group of controls (built only while open)."""
    open_, set_open = solara.use_state(expand)
    slug = title.lower().replace(" ", "-").replace("'", "")
    with solara.Div(classes=["ds-fold", f"ds-group-{slug}"]):
        solara.Button(("▾ " if open_ else "▸ ") + f"{title} ({len(names)})", text=True,
                      small=True, on_click=lambda: set_open(not open_),
                      classes=["ds-fold-title"], style={"text-transform": "none",
                                                        "font-weight": "600", "padding": "0 4px"})
        if open_:
            with solara.Div(style={"padding": "0 4px 4px 10px"}):
                for n in names:
                    FieldControl(st.control_for(field_spec(n)), values[n], invalid.get(n, ""),
                                 cb.set_field, cb.set_invalid)


@solara.component
def FilePicker(on_file: Callable[[dict[str, Any]], None], accept: str = ".toml"):
    """A normal file picker (the browser's own file dialog); ``on_file`` gets one file.

    ``on_file`` receives ``{"name": ..., "size": ..., "file_obj": ...}`` (a file object that
    reads from the browser), called in a worker thread as Solara's ``FileDrop`` does.
    """
    info, set_info = solara.use_state(None)
    files, set_files = solara.use_state(None)
    el = FileInput.element(accept=accept, multiple=False, show_progress=False,
                           on_file_info=set_info)

    def wire() -> None:
        if info:
            widget = solara.get_widget(el)
            widget.version += 1  # as solara's FileDrop: a fresh read of the chosen file
            widget.reset_stats()
            set_files(widget.get_files())

    solara.use_effect(wire, [info])

    def read(_cancel: Any = None) -> None:
        if files:
            on_file(files[0])

    solara.use_thread(read, [files])


@solara.component
def ScenarioBox(strategy: str, seed: int, values: dict[str, Any],
                on_load: Callable[[scenario_io.Scenario, str], None]):
    """Save the current settings as a scenario file, or load one (drop a file or paste it)."""
    error, set_error = solara.use_state("")
    loaded, set_loaded = solara.use_state("")
    text, set_text = solara.use_state("")

    def load_text(raw: str, where: str) -> None:
        try:
            sc = scenario_io.loads(raw)
        except ValueError as exc:
            set_error(words.file_problem(where, str(exc)))
            set_loaded("")
            return
        set_error("")
        set_loaded(f"loaded {where}: the {words.strategy_title(sc.strategy)} plan, seed "
                   f"{sc.seed}, {len(sc.params)} settings changed from it; it is also under "
                   "'Compare with'")
        on_load(sc, where)

    def on_file(info: Any) -> None:
        try:
            raw = read_upload(info)  # read once, bounded; empty or binary refused
        except ValueError as exc:
            set_error(words.file_problem(info["name"], str(exc)))
            set_loaded("")
            return
        load_text(raw, info["name"])

    with Fold("Save or load these settings (scenario file)", classes=["ds-scenario"]):
        ScenarioDownload(strategy, seed, values)
        solara.Text("Load a saved scenario file:", classes=["ds-help"])
        with solara.Div(classes=["ds-file-picker"]):
            FilePicker(on_file)
        solara.FileDrop(label="…or drop the file here", on_file=on_file, lazy=True)
        solara.InputTextArea("…or paste a scenario file's text", value=text,
                             on_value=set_text, rows=3, continuous_update=True)
        solara.Button("Load the pasted text", on_click=lambda: load_text(text, "pasted text"),
                      outlined=True, classes=["ds-load-scenario"])
        if error:
            solara.Error(error, classes=["ds-scenario-error"])
        elif loaded:
            solara.Success(loaded)


@solara.component
def ScenarioDownload(strategy: str, seed: int, values: dict[str, Any]):
    """A button that downloads the current settings as a scenario file.

    The text is made only when clicked; the callable is kept while the settings stay the same
    (a new one on every render would restart the download's thread on every render).
    """
    text = solara.use_memo(lambda: lambda: st.scenario_text(strategy, seed, values),
                           [strategy, seed, values])
    solara.FileDownload(text, filename="dealersim-scenario.toml", label="Save these settings",
                        mime_type="application/toml")


@solara.component
def ReportBox(strategy: str, seed: int, values: dict[str, Any], advice: list[str]):
    """Write the consultant's report for the current settings in the background; download it."""
    key = st.run_key(strategy, seed, values)

    def work() -> tuple[Any, bytes | None, str | None]:
        try:
            return key, st.report_html(strategy, seed, values, st.REPORT_REPLICATES,
                                       plans=advice or None), None
        except Exception as exc:  # noqa: BLE001 - shown in the page
            return key, None, " ".join(str(exc).split()) or type(exc).__name__

    task = solara.lab.use_task(work, dependencies=None, raise_error=False)
    done = task.latest
    with solara.Div(classes=["ds-bar", "ds-takeaway"]):
        solara.Button("Write the consultant's report", icon_name="mdi-file-document-outline",
                      on_click=task, disabled=task.pending, outlined=True, small=True,
                      classes=["ds-report"])
        ScenarioDownload(strategy, seed, values)
        if done is not None and done[1] is not None and not task.pending:
            solara.FileDownload(done[1], filename="report.html", label="Download report.html",
                                mime_type="text/html")
    if task.pending:
        solara.Text(f"Writing the report in the background: your settings run "
                    f"{st.REPORT_REPLICATES} times with different luck, each against doing "
                    "nothing: the same dealership without the program (about a minute).",
                    classes=["ds-help", "ds-report-busy"])
    elif done is not None:
        got_key, html, error = done
        if error:
            solara.Error(f"The report could not be written: {error}", dense=True)
        elif html is not None:
            stale = "" if got_key == key else " It is for earlier settings: write it again."
            solara.Text(f"report.html is ready ({len(html) // 1024:,} kB, "
                        f"{st.REPORT_REPLICATES} runs of your settings).{stale}",
                        classes=["ds-help", "ds-report-ready"])


@solara.component
def VerdictCard(strategy: str, seed: int, values: dict[str, Any]):
    """The verdict at the top: the decision of the settings' replicates, worded as the report.

    Worked out in the background on demand (the same runs then give the report); the card says
    when it is for earlier settings.
    """
    key = st.run_key(strategy, seed, values)

    def work() -> tuple[Any, st.Verdict | None, str | None]:
        try:
            return key, st.verdict_for(strategy, seed, values, st.REPORT_REPLICATES), None
        except Exception as exc:  # noqa: BLE001 - shown in the page
            return key, None, " ".join(str(exc).split()) or type(exc).__name__

    task = solara.lab.use_task(work, dependencies=None, raise_error=False)
    done = task.latest
    with solara.Div(classes=["ds-verdict"], style={
            "border": "1px solid #ccc", "border-radius": "8px", "padding": "8px 12px",
            "margin": "4px 0 10px", "background": "#fcfcfc"}):
        solara.Text("The verdict", style={"font-size": "12px", "font-weight": "600",
                                          "color": "#444", "display": "block"})
        if done is not None and done[1] is not None:
            got_key, verdict, _ = done
            solara.Text(verdict.headline, classes=["ds-verdict-headline"],
                        style={"font-size": "17px", "font-weight": "700", "display": "block",
                               "margin": "2px 0"})
            solara.Text(verdict.rule, classes=["ds-verdict-rule"],
                        style={"font-size": "13px", "display": "block"})
            HeadlineCards(verdict.cards, prefix="-verdict", classes=["ds-verdict-cards"])
            for line in (verdict.sell, verdict.robust, verdict.horizon):
                if line:
                    solara.Text(line, classes=["ds-help"], style={"font-size": "12px"})
            if got_key != key:
                solara.Text("This verdict is for earlier settings: work it out again.",
                            classes=["ds-help", "ds-verdict-stale"],
                            style={"color": "#b3261e", "font-size": "12px"})
        elif done is not None and done[2]:
            solara.Error(f"The verdict could not be worked out: {done[2]}", dense=True)
        else:
            solara.Text(f"Your settings run {st.REPORT_REPLICATES} times with different luck, "
                        "each against doing nothing (the same dealership without the "
                        "program); the verdict and the report come from those runs.",
                        classes=["ds-help"], style={"font-size": "12px"})
        solara.Button("Work out the verdict", icon_name="mdi-scale-balance", on_click=task,
                      disabled=task.pending, outlined=True, small=True,
                      classes=["ds-verdict-button"])
        if task.pending:
            solara.ProgressLinear(True)


@solara.component
def Advice(things: list[str]):
    """The advice study's three most important changes, in plain words (nothing without)."""
    if not things:
        return
    with solara.Div(classes=["ds-advice"], style={"font-size": "13px", "margin": "6px 0"}):
        solara.Text("If you can only change three things (from the advice study):",
                    style={"font-weight": "600", "display": "block"})
        solara.HTML(tag="ol", unsafe_innerHTML="".join(f"<li>{html.escape(t)}</li>"
                                                       for t in things[:3]),
                    style={"margin": "2px 0 0 18px", "padding": "0"})


@solara.component
def Glossary():
    """What the plans and the words on the page mean."""
    with Fold("The plans, one line each", classes=["ds-plans"]):
        for title, name in words.strategy_by_title().items():
            solara.Markdown(f"**{title}**: {words.strategy_line(name)}",
                            style={"font-size": "13px"})
    with Fold("What the words mean", classes=["ds-glossary"]):
        for word, meaning in words.GLOSSARY:
            solara.Markdown(f"**{word}**: {meaning}", style={"font-size": "13px"})


# ---------------------------------------------------------------------------- outcome
@solara.component
def HeadlineCards(cards: list[st.Card], prefix: str = "", classes: list[str] | None = None):
    """The headline cards, wrapping to the width."""
    with solara.Div(classes=["ds-cards", f"ds-cards{prefix}", *(classes or [])]):
        for c in cards:
            with solara.Div(classes=["ds-card", f"ds-card-{c.key}"], style={
                    "background": CARD_COLOURS[c.good], "border-radius": "6px",
                    "padding": "6px 10px"}):
                solara.Text(c.title, style={"font-size": "12px", "color": "#555",
                                            "display": "block"})
                solara.Text(c.value, classes=[f"ds-value{prefix}-{c.key}"],
                            style={"font-size": "20px", "font-weight": "600",
                                   "display": "block"})
                if c.change:
                    solara.Text(c.change, classes=[f"ds-change{prefix}-{c.key}"],
                                style={"font-size": "12px", "display": "block",
                                       "color": CHANGE_COLOURS[c.better]})
                solara.Text(c.detail, style={"font-size": "11px", "color": "#666",
                                             "display": "block"})


class ChartData:
    """A chart's ECharts option with a cheap identity.

    Reacton compares a component's arguments value by value; a chart's option holds thousands
    of numbers, so it travels in this box, equal to another box when their ``token`` (the run's
    key, the replay day, the chart) is equal.
    """

    @staticmethod
    def token_of(chart: str, *runs: st.Outcome, upto: int | None = None) -> str:
        """``"mrr|<seed>|<day>|<run ids>"``: names what a chart shows."""
        ids = ",".join(f"{hash(o.key) & 0xFFFFFFFF:x}" for o in runs)
        return f"{chart}|{runs[0].seed}|{upto}|{ids}"

    def __init__(self, token: str, option: dict[str, Any]) -> None:
        self.token, self.option = token, option

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChartData) and self.token == other.token

    def __hash__(self) -> int:
        return hash(self.token)


@solara.component
def Chart(key: str, data: ChartData):
    """One chart drawn by the browser (ECharts), as wide as its column.

    The option is set on the widget directly (an effect keyed on the token), so neither the
    render nor the widget diff walks its data.
    """
    # no ``option`` here: reacton would set it back on every render of this component
    el = EchartsWidget.element(responsive=True, maps={}, attributes={
        "style": f"height: {CHART_HEIGHT}; width: 100%;", "class": f"ds-chart ds-chart-{key}"})

    def push() -> None:
        # the token travels with the option: the browser test reads it to know what is drawn
        solara.get_widget(el).option = {**data.option, "dsToken": data.token}

    solara.use_effect(push, [data])


@solara.component
def ReplayBar(horizon: int, day: int | None, set_day: Callable[[int | None], None],
              playing: bool, set_playing: Callable[[bool], None], speed: str,
              set_speed: Callable[[str], None]):
    """Play / pause, a day slider and the replay speed."""
    shown = horizon if day is None else day
    with solara.Div(classes=["ds-bar", "ds-replay"]):
        solara.Button("Pause" if playing else "Replay", icon_name="mdi-pause" if playing
                      else "mdi-play", on_click=lambda: _toggle_play(playing, day, horizon,
                                                                     set_day, set_playing),
                      color="primary", small=True, classes=["ds-play"])
        solara.Button("Show end", on_click=lambda: (set_playing(False), set_day(None)),
                      text=True, small=True, classes=["ds-end"])
        with solara.Div(style={"flex": "1 1 160px", "min-width": "140px"}):
            solara.SliderInt("Replay day", value=shown, min=0, max=horizon,
                             on_value=lambda d: (set_playing(False),
                                                 set_day(None if d >= horizon else d)))
        solara.Select("Speed", values=list(PLAY_SPEEDS), value=speed, on_value=set_speed,
                      dense=True, style={"max-width": "110px"})
        solara.Text(f"day {shown} of {horizon} (month {shown / charts.DAYS_PER_MONTH:.1f})",
                    classes=["ds-day"], style={"font-size": "12px"})


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
    with solara.Div(classes=["ds-bar"]):
        solara.Select("Who", values=options, value=actor, on_value=set_actor, dense=True,
                      style={"max-width": "220px"})
        solara.Text(f"{len(rows)} events" + (f" up to day {upto}" if upto is not None else ""),
                    classes=["ds-story-count"])
    solara.DataFrame(rows, items_per_page=25)


@solara.component
def CompareView(outcome: st.Outcome, baseline: st.Outcome | None, title: str,
                upto: int | None):
    """The current settings against the baseline: both sets of cards and overlaid charts."""
    if baseline is not None and baseline.error:
        solara.Error(f"The baseline could not run: {baseline.error}")
        return
    if baseline is None and title != NOTHING:
        solara.Text(f"computing the baseline ({title})…", classes=["ds-compare-wait"])
        return
    if baseline is None or baseline.result is None:
        solara.Info("Pick something to compare with above ('Compare with'): a preset, your "
                    "previous try, a plan you pinned or a scenario file. Both run on the same "
                    "seed with every lever included.", classes=["ds-compare-empty"])
        return
    solara.Text("Your settings", style={"font-weight": "600"})
    HeadlineCards(st.headline(outcome.result, upto, outcome.replay)
                  + st.money_cards(outcome.result, upto), prefix="-now")
    solara.Text(f"Baseline: {title}", style={"font-weight": "600"})
    HeadlineCards(st.headline(baseline.result, upto, baseline.replay)
                  + st.money_cards(baseline.result, upto), prefix="-base")
    runs = [("your settings", outcome.result), (f"baseline: {title}", baseline.result)]
    with solara.Div(classes=["ds-charts"]):
        token = ChartData.token_of("compare-cash", outcome, baseline, upto=upto)
        Chart("compare-cash", ChartData(token, charts.cash_chart(runs, upto)))
        for name in charts.COMPARED:
            token = ChartData.token_of(name, outcome, baseline, upto=upto)
            Chart(f"compare-{name}", ChartData(token, charts.compare_chart(name, runs, upto)))


@solara.component
def Replicates(strategy: str, seed: int, values: dict[str, Any]):
    """Run N replicates in the background on demand; say how sure the answer is."""
    key = st.run_key(strategy, seed, values)

    def work() -> tuple[Any, st.ReplicateSummary | None, str | None]:
        try:
            return key, st.run_replicates(strategy, seed, values, st.REPORT_REPLICATES), None
        except Exception as exc:  # noqa: BLE001 - shown in the page
            return key, None, " ".join(str(exc).split()) or type(exc).__name__

    task = solara.lab.use_task(work, dependencies=None, raise_error=False)
    done = task.latest
    solara.Markdown(
        f"One run is one possible history. This runs your settings **{st.REPORT_REPLICATES}** "
        "times with different luck, in the background, and says how often the launch succeeds "
        "(the runs of the verdict above and of the report).")
    solara.Button(f"Run {st.REPORT_REPLICATES} times", on_click=task, disabled=task.pending,
                  color="primary", classes=["ds-replicates"])
    if task.pending:
        solara.ProgressLinear(True)
        solara.Text("running in the background…")
    if done is not None:
        got_key, summary, error = done
        if error:
            solara.Error(error)
        elif summary is not None:
            stale = "" if got_key == key else " (for earlier settings: run again)"
            solara.Success(f"{summary.text()}{stale}", classes=["ds-replicate-result"])


# ---------------------------------------------------------------------------- the page
@dataclass(frozen=True)
class PageState:
    """Everything the owner set, in one value: one change is one render.

    Attributes:
        strategy: The preset the settings started from.
        seed: The seed.
        values: Every ``Params`` field.
        invalid: Messages of boxes holding text that is not allowed, by field (or ``seed``).
        previous: The settings before the last change.
        pinned: The plan pinned as the baseline.
        scenarios: Loaded scenario files, by title.
        compare: The title of what the cards compare with (``NOTHING``: no baseline).
    """

    strategy: str
    seed: int
    values: dict[str, Any]
    invalid: dict[str, str] = field(default_factory=dict)
    previous: st.Plan | None = None
    pinned: st.Plan | None = None
    scenarios: dict[str, st.Plan] = field(default_factory=dict)
    compare: str = NOTHING


class _Callbacks:
    """Stable callbacks bound to the page's state (created once per page).

    Components that receive them are not re-rendered for nothing (reacton skips a component
    whose arguments did not change); each callback sets the state once.
    """

    def __init__(self, page: Any) -> None:
        self.page = page

    def _update(self, **changes: Any) -> None:
        self.page.set(replace(self.page.value, **changes))

    def _before_change(self) -> st.Plan:
        p = self.page.value
        return st.Plan(PREVIOUS, p.strategy, dict(p.values))

    def set_field(self, name: str, value: Any) -> None:
        p = self.page.value
        invalid = {k: m for k, m in p.invalid.items() if k != name}
        if p.values.get(name) == value:
            if invalid != p.invalid:
                self._update(invalid=invalid)
            return
        self._update(previous=self._before_change(), invalid=invalid,
                     values={**p.values, name: value})

    def set_invalid(self, name: str, message: str) -> None:
        p = self.page.value
        if p.invalid.get(name) != message:
            self._update(invalid={**p.invalid, name: message})

    def pick_strategy(self, title: str) -> None:
        name = words.strategy_by_title()[title]
        p = self.page.value
        self._update(previous=self._before_change(), invalid={}, strategy=name,
                     values=st.apply_preset(name, p.values))

    def reset(self) -> None:
        self.pick_strategy(words.strategy_title(self.page.value.strategy))

    def set_seed(self, text: str) -> None:
        p = self.page.value
        try:
            value = parse_whole(str(text).replace(",", ""), 0, SEED_MAX)
        except ValueError:
            self.set_invalid("seed", f"Seed: {str(text)[:40]!r} is not allowed: enter a whole "
                             "number from 0 to 9,223,372,036,854,775,807")
            return
        invalid = {k: m for k, m in p.invalid.items() if k != "seed"}
        self._update(seed=value, invalid=invalid)

    def pin(self) -> None:
        p = self.page.value
        title = f"Pinned plan ({time.strftime('%H:%M:%S')})"
        self._update(pinned=st.Plan(title, p.strategy, dict(p.values)), compare=title)

    def set_compare(self, title: str) -> None:
        self._update(compare=title)

    def load_scenario(self, sc: scenario_io.Scenario, where: str) -> None:
        p = self.page.value
        values = sc.to_params().to_dict()
        title = f"Scenario: {where}"
        self._update(previous=self._before_change(), invalid={}, values=values,
                     strategy=sc.strategy, seed=int(sc.seed),
                     scenarios={**p.scenarios, title: st.Plan(title, sc.strategy, values)})


@solara.component
def ControlsPanel(strategy: str, seed: int, values: dict[str, Any], invalid: dict[str, str],
                  cb: _Callbacks):
    """The controls: preset, the main levers, your dealership, more levers, files, glossary."""
    titles = words.strategy_by_title()
    solara.Select("Start from a plan", values=list(titles),
                  value=words.strategy_title(strategy), on_value=cb.pick_strategy,
                  classes=["ds-strategy"])
    solara.Text(words.strategy_line(strategy), classes=["ds-help", "ds-strategy-line"])
    seed_error = invalid.get("seed", "")
    solara.InputText("Seed (the run's luck)", value=str(seed), on_value=cb.set_seed,
                     error=bool(seed_error), classes=["ds-seed"], dense=True,
                     message=seed_error or "a whole number; the same seed tells the same story")
    solara.Button("Reset to the plan's settings", text=True, small=True, on_click=cb.reset)
    key = words.key_levers()
    own = [n for n in st.DEALERSHIP_FIELDS if n not in key]
    ControlGroup("The main levers", list(key), values, invalid, cb, expand=True)
    ControlGroup("Your dealership's numbers", own, values, invalid, cb)
    # the horizon is the page's top control; the demo's horizon (money_years) acts on no page
    shown = {*key, *own, "years", "money_years"}
    rest = [s.name for s in st.field_specs() if s.name not in shown]
    with Fold(f"More levers ({len(rest)})", classes=["ds-more"]):
        for group in GROUPS:
            names = [n for n in rest if field_spec(n).group == group]
            if names:
                ControlGroup(group.capitalize(), names, values, invalid, cb)
    ScenarioBox(strategy, seed, values, cb.load_scenario)
    Glossary()


def _use_warm_presets(seed: int, values: dict[str, Any], idle: bool) -> None:
    """While the page is idle, run every preset on the owner's numbers and seed in advance.

    Picking a preset (or comparing with one) is then a cache hit. Any change makes the page
    busy again, which stops this at once (the next 30 simulated days at most).
    """
    own = tuple((k, values[k]) for k in (*st.DEALERSHIP_FIELDS, "years"))
    ref = solara.use_ref(None)

    def warm() -> None:
        task = ref.current
        if not idle:
            return

        def stop() -> bool:
            return task is not None and not task.is_current()

        for name in st.strategy_choices():
            if stop():
                return
            try:
                st.run_config(name, seed, st.apply_preset(name, dict(values)), stop=stop)
            except st.Cancelled:
                return

    task = solara.lab.use_task(warm, dependencies=[seed, own, idle], raise_error=False)
    ref.current = task


def _use_run(strategy: str, seed: int, values: dict[str, Any], enabled: bool = True) -> Any:
    """A background run of one configuration that a newer change cancels (or ``None``)."""
    key = st.run_key(strategy, seed, values)
    ref = solara.use_ref(None)

    def compute() -> st.Outcome | None:
        task = ref.current
        if not enabled:
            return None
        try:
            return st.run_config(key[0], key[1], dict(key[2]),
                                 stop=lambda: task is not None and not task.is_current())
        except st.Cancelled:
            return None

    task = solara.lab.use_task(compute, dependencies=[key, enabled], raise_error=False)
    ref.current = task
    return task


@solara.component
def OutcomePanel(strategy: str, seed: int, values: dict[str, Any], invalid: dict[str, str],
                 baseline_plan: st.Plan | None, compare_titles: list[str], compare: str,
                 cb: _Callbacks, advice: list[str] | None = None):
    """The results: busy line, cards, money, compare bar, report, replay bar and the views."""
    advice = list(advice or [])
    view = solara.use_reactive(VIEWS[0])
    day = solara.use_reactive(None)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive("1 week")

    task = _use_run(strategy, seed, values)
    latest: st.Outcome | None = task.latest
    failed = latest is not None and latest.error is not None
    last_good = solara.use_ref(None)
    if latest is not None and latest.result is not None:
        last_good.current = latest
    outcome: st.Outcome | None = last_good.current  # a failed run keeps the last good one shown
    result = outcome.result if outcome is not None else None
    base_task = _use_run(baseline_plan.strategy if baseline_plan else strategy, seed,
                         baseline_plan.values if baseline_plan else values,
                         enabled=baseline_plan is not None)
    _use_warm_presets(seed, values, idle=not task.pending and not base_task.pending)
    baseline: st.Outcome | None = base_task.latest
    if baseline_plan is None or baseline is None or baseline.key != baseline_plan.key(seed):
        baseline = None  # none wanted, or still the previous baseline's run
    horizon = int(result.timeseries["day"].iloc[-1]) if result is not None else 0

    async def play() -> None:
        # the replay clock: frame k is due at start + k * interval, whatever a frame costs;
        # a late frame skips ahead so the replay keeps its speed. Nothing is simulated again.
        if not playing.value:
            return
        start, first = time.perf_counter(), day.value or 0
        frame = 0
        while playing.value:
            frame += 1
            await asyncio.sleep(max(0.0, start + frame * PLAY_FRAME_SECONDS
                                    - time.perf_counter()))
            frame = max(frame, int((time.perf_counter() - start) / PLAY_FRAME_SECONDS))
            nxt = first + frame * PLAY_SPEEDS[speed.value]
            if nxt >= horizon:
                day.set(None)
                playing.set(False)
                return
            day.set(nxt)

    # keyed on ``playing`` only: a new result stops the replay through the effect below
    solara.lab.use_task(play, dependencies=[playing.value, speed.value], raise_error=False)

    def reset_replay() -> None:
        day.set(None)
        playing.set(False)

    solara.use_effect(reset_replay, [id(result)])

    bad = [m for m in invalid.values() if m]
    busy = task.pending or (baseline_plan is not None and base_task.pending)
    solara.ProgressLinear(busy, classes=["ds-busy"])
    with solara.Div(classes=["ds-errors"]):
        if bad:
            solara.Warning("Not updated: the results below are for your last valid settings. "
                           + " ".join(bad), classes=["ds-not-updated"], dense=True)
        if failed:
            solara.Error(f"The model could not run these settings: {latest.error}"
                         + ("; the results below are for your last settings that ran."
                            if result is not None else ""), classes=["ds-model-error"])
    if result is None:
        if not failed:
            solara.Text("computing the first run…")
        return
    upto = day.value
    with solara.Div(classes=["ds-results"] + (["ds-stale"] if bad or failed else [])):
        base = baseline.result if baseline is not None and baseline.result is not None else None
        VerdictCard(strategy, seed, values)
        solara.Text(f"One possible history: the cards, money, charts and story below follow "
                    f"one run, on the luck of the seed you set. The verdict above is over "
                    f"{st.REPORT_REPLICATES} runs.", classes=["ds-one-run-title"],
                    style={"font-size": "12px", "font-weight": "600", "color": "#444",
                           "display": "block", "margin": "6px 0 2px"})
        HeadlineCards(st.headline(result, upto, outcome.replay, base,
                                  baseline.replay if base is not None else None))
        solara.Text("Money in this run, against doing nothing (the same dealership without "
                    "the program), in dollars as paid, not discounted to today",
                    classes=["ds-money-title"], style={"font-size": "12px", "font-weight": "600",
                                                       "color": "#444", "display": "block",
                                                       "margin": "6px 0 2px"})
        HeadlineCards(st.money_cards(result, upto, base), prefix="", classes=["ds-money"])
        Advice(advice)
        with solara.Div(classes=["ds-bar", "ds-compare-bar"]):
            solara.Select("Compare with", values=compare_titles, value=compare,
                          on_value=cb.set_compare, dense=True, classes=["ds-compare"],
                          style={"min-width": "200px", "max-width": "320px"})
            solara.Button("Pin these settings as the baseline", icon_name="mdi-pin",
                          on_click=cb.pin, outlined=True, small=True, classes=["ds-pin"])
            solara.Text(f"computed in {outcome.seconds:.2f} s, seed {outcome.seed}",
                        classes=["ds-computed"], style={"font-size": "11px", "color": "#888"})
        ReportBox(strategy, seed, values, advice)
        with solara.Div(classes=["ds-bar"]):
            solara.ToggleButtonsSingle(value=view, values=list(VIEWS), dense=True,
                                       classes=["ds-views"])
        ReplayBar(horizon, upto, day.set, playing.value, playing.set, speed.value, speed.set)
        slug = view.value.lower().replace(" ", "-").strip("?")
        with solara.Div(classes=[f"ds-view-{slug}"]).key(slug):
            if view.value == "Charts":
                with solara.Div(classes=["ds-charts"]):
                    for k, opt in charts.main_charts(result, upto).items():
                        Chart(k, ChartData(ChartData.token_of(k, outcome, upto=upto), opt))
            elif view.value == "Account map":
                Chart("account-map", ChartData(ChartData.token_of("map", outcome, upto=upto),
                                               charts.account_map_chart(result, outcome.replay,
                                                                        upto)))
            elif view.value == "Compare":
                CompareView(outcome, baseline, compare, upto)
            elif view.value == "Story":
                Story(result.events, upto)
            else:
                Replicates(strategy, seed, values)


@solara.component
def Dashboard(initial_strategy: str = st.DEFAULT_STRATEGY, initial_seed: int = 0,
              advice: list[str] | None = None):
    """The owner's dashboard: controls, then the 3-year outcome, its money, story and comparisons.

    Args:
        initial_strategy: Strategy preset the controls start from.
        initial_seed: Seed the page starts with.
        advice: The "If you can only change three things" sentences of a ``dealersim advise``
            folder (shown on the page and put into the report); none: nothing is shown.
    """
    page = solara.use_reactive(PageState(initial_strategy, int(initial_seed),
                                         st.default_values(initial_strategy)))
    cb = solara.use_memo(lambda: _Callbacks(page), [])
    p = page.value
    titles = words.strategy_by_title()
    options = st.compare_titles(p.pinned, p.previous, p.scenarios, titles)
    plan = st.compare_plan(p.compare, p.values, p.pinned, p.previous, p.scenarios, titles)
    compare = p.compare if plan is not None else NOTHING
    solara.Style(CSS)
    years = float(p.values["years"])
    span = st.horizon_words(years)
    with solara.Div(classes=["ds-page"]):
        solara.Markdown(f"### Your managed-services launch, {span} ahead\n"
                        "Pick a plan, set your own numbers, and see what happens: the whole "
                        f"{span} are simulated on every change.", style={"font-size": "13px"})
        with solara.Div(classes=["ds-bar", "ds-horizon-bar"]):
            choices = [st.horizon_words(y) for y in sorted({*st.HORIZONS, years})]
            solara.ToggleButtonsSingle(
                value=span, values=choices, dense=True, classes=["ds-horizon"],
                on_value=lambda text: cb.set_field("years", st.horizon_years(text)))
            solara.Text(f"Money horizon: every card, chart, verdict and report shows {span}.",
                        classes=["ds-help", "ds-horizon-note"], style={"font-size": "12px"})
        # on a phone the controls come first: a link down to the results
        solara.HTML(tag="a", unsafe_innerHTML="See the results ↓", classes=["ds-jump"],
                    attributes={"href": "#ds-results"})
        with solara.Div(classes=["ds-layout"]):
            with solara.Div(classes=["ds-controls"]):
                ControlsPanel(p.strategy, p.seed, p.values, p.invalid, cb)
            with solara.Div(classes=["ds-main"]):
                solara.HTML(tag="a", attributes={"id": "ds-results"})
                OutcomePanel(p.strategy, p.seed, p.values, p.invalid, plan, [NOTHING, *options],
                             compare, cb, advice)
