"""The app's Altair charts, built by functions (the pages and the board pack call the same ones)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from sop_core.fmt import currency_symbol, money, signed_money

__all__ = [
    "STORY_COLORS",
    "SEVERITY_COLORS",
    "SEVERITY_ORDER",
    "SERIES_COLORS",
    "money_axis",
    "story_lines_chart",
    "history_forecast_chart",
    "load_capacity_chart",
    "utilisation_heatmap",
    "fte_chart",
    "cash_chart",
    "fan_chart",
    "FAN_SERIES",
    "pnl_chart",
    "stories_chart",
    "gap_panels_chart",
    "GAP_ADVERSE",
    "bridge_chart",
    "scenario_curves_chart",
    "bias_chart",
    "inventory_cover_chart",
    "run_down_chart",
    "working_capital_chart",
    "tornado_chart",
    "TORNADO_SIDES",
    "accuracy_chart",
]

# One colour per story, the same on every page; Okabe-Ito hues, distinguishable with colour-blindness.
STORY_COLORS = {"Demand": "#0072B2", "Supply": "#E69F00", "Finance": "#009E73"}
# Severity: one hue by lightness, so it reads in greyscale and for colour-blind people; labels always shown.
SEVERITY_ORDER = ["high", "medium", "low"]
SEVERITY_COLORS = {"high": "#7B1F4B", "medium": "#C45C8A", "low": "#E8B7CF"}
SERIES_COLORS = {
    "Actuals": "#222222",
    "Statistical": "#7F7F7F",
    "Sales": "#0072B2",
    "Marketing": "#56B4E9",
    "Consensus": "#CC79A7",
    "Plan": "#D55E00",
}
FONT = 14
HEIGHT = 380


def _configure(chart: alt.Chart) -> alt.Chart:
    return (
        chart.configure_axis(labelFontSize=FONT, titleFontSize=FONT, grid=True, gridOpacity=0.4)
        .configure_legend(labelFontSize=FONT, titleFontSize=FONT, orient="top")
        .configure_title(fontSize=FONT + 2, anchor="start")
        .configure_view(strokeWidth=0)
    )


def money_axis(currency: str, title: str | None = None) -> alt.Axis:
    """An axis that labels money compactly in the company currency (£1.2m, £340k)."""
    sym = currency_symbol(currency).replace("'", "\\'")
    expr = (
        f"(datum.value < 0 ? '−' : '') + '{sym}' + "
        "replace(replace(format(abs(datum.value), '.3~s'), 'M', 'm'), 'G', 'bn')"
    )
    return alt.Axis(labelExpr=expr, title=title)


# The minimum-cash line, the same on every cash chart: red, dashed.
MINIMUM_RULE = {"color": SEVERITY_COLORS["high"], "strokeDash": [6, 3], "strokeWidth": 2}

# "2027-09" on an axis reads "Sep 2027"
MONTH_LABEL_EXPR = (
    "['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec']"
    "[toNumber(substring(datum.value, 5, 7)) - 1] + ' ' + substring(datum.value, 0, 4)"
)


def _month_x(title: str = "Month") -> alt.X:
    return alt.X("month:O", title=title, axis=alt.Axis(labelAngle=-45, labelExpr=MONTH_LABEL_EXPR))


def history_forecast_chart(
    frame: pd.DataFrame,
    title: str = "",
    *,
    band: pd.DataFrame | None = None,
    band_label: str = "Statistical 80 % band",
    currency: str = "GBP",
) -> alt.Chart:
    """Lines of units by month per series (Actuals, Statistical, Sales, Marketing, Consensus, Plan),
    with the statistical baseline's 80 % band shaded behind them when given.

    Args:
        frame: columns month, series, units — or revenue (money at plan prices, in
            ``currency``): then the axis is money.
        band: columns month, p10, p90 (the baseline's band); None or empty = no band.
        band_label: the band's name in the legend and tooltip.
    """
    series = [s for s in SERIES_COLORS if s in set(frame["series"])]
    field = "revenue" if "revenue" in frame.columns else "units"
    y = (
        alt.Y("revenue:Q", axis=money_axis(currency, f"Revenue at plan prices ({currency})"))
        if field == "revenue"
        else alt.Y("units:Q", title="Units")
    )
    lines = (
        alt.Chart(frame)
        .mark_line(point=alt.OverlayMarkDef(size=30), strokeWidth=2.5)
        .encode(
            x=_month_x(),
            y=y,
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(domain=series, range=[SERIES_COLORS[s] for s in series]),
            ),
            strokeDash=alt.condition(
                alt.datum.series == "Actuals", alt.value([1, 0]), alt.value([6, 3])
            ),
            tooltip=["month", "series", alt.Tooltip(f"{field}:Q", format=",.0f")],
        )
    )
    if band is None or band.empty:
        return _configure(lines.properties(title=title, height=HEIGHT))
    shaded = (
        alt.Chart(band.assign(what=band_label))
        # light enough that the lines drawn over it stay readable on a projector
        .mark_area(opacity=0.18)
        .encode(
            x=_month_x(),
            y="p10:Q",
            y2="p90:Q",
            fill=alt.Fill(
                "what:N",
                title=None,
                scale=alt.Scale(domain=[band_label], range=[SERIES_COLORS["Statistical"]]),
                legend=alt.Legend(labelLimit=0),
            ),
            tooltip=[
                "month",
                alt.Tooltip("what:N", title="band"),
                alt.Tooltip("p10:Q", format=",.0f", title="P10"),
                alt.Tooltip("p90:Q", format=",.0f", title="P90"),
            ],
        )
    )
    return _configure((shaded + lines).properties(title=title, height=HEIGHT))


def load_capacity_chart(frame: pd.DataFrame, title: str = "") -> alt.Chart:
    """Bars of load hours with the capacity line; over 100 % marked.

    Args:
        frame: columns month, resource, load_hours, capacity_hours, utilisation (load/capacity).
    """
    data = frame.assign(
        status=pd.cut(
            frame["utilisation"].fillna(0) * 100,
            bins=[-1, 90, 100, float("inf")],
            labels=["under 90 %", "90–100 %", "over 100 %"],
        ).astype(str),
        utilisation_pct=frame["utilisation"] * 100,
    )
    status_scale = alt.Scale(
        domain=["under 90 %", "90–100 %", "over 100 %"],
        range=["#9FC5E8", SEVERITY_COLORS["medium"], SEVERITY_COLORS["high"]],
    )
    base = alt.Chart(data, title=title)
    bars = base.mark_bar().encode(
        x=_month_x(),
        y=alt.Y("load_hours:Q", title="Hours"),
        color=alt.Color("status:N", title="Load vs capacity", scale=status_scale),
        tooltip=[
            "month",
            "resource",
            alt.Tooltip("load_hours:Q", title="load (h)", format=",.0f"),
            alt.Tooltip("capacity_hours:Q", title="capacity (h)", format=",.0f"),
            alt.Tooltip("utilisation_pct:Q", title="utilisation %", format=".1f"),
        ],
    )
    cap = base.mark_line(color="#222222", strokeWidth=2.5, strokeDash=[6, 3]).encode(
        x=_month_x(), y="capacity_hours:Q"
    )
    return _configure((bars + cap).properties(height=HEIGHT))


def utilisation_heatmap(frame: pd.DataFrame, title: str = "") -> alt.Chart:
    """Utilisation of every resource in every month, a cell each, overloads marked and labelled.

    Args:
        frame: columns month, resource, utilisation (load/capacity; NaN = unlimited).
    """
    data = frame[["month", "resource", "utilisation"]].copy()
    data["pct"] = data["utilisation"] * 100
    data["status"] = pd.cut(
        data["pct"].fillna(0),
        bins=[-1, 90, 100, float("inf")],
        labels=["under 90 %", "90–100 %", "over 100 %"],
    ).astype(str)
    data.loc[data["utilisation"].isna(), "status"] = "unlimited"
    data["label"] = [("—" if pd.isna(v) else f"{v:.0f}") for v in data["pct"]]
    scale = alt.Scale(
        domain=["under 90 %", "90–100 %", "over 100 %", "unlimited"],
        range=["#DCEAF7", SEVERITY_COLORS["low"], SEVERITY_COLORS["high"], "#F2F2F2"],
    )
    base = alt.Chart(data, title=title).encode(
        x=_month_x(), y=alt.Y("resource:N", title=None, axis=alt.Axis(labelLimit=220))
    )
    rect = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color("status:N", title="Utilisation", scale=scale),
        tooltip=["resource", "month", alt.Tooltip("pct:Q", title="utilisation %", format=".1f")],
    )
    text = base.mark_text(fontSize=FONT - 1).encode(
        text="label:N",
        color=alt.condition(
            alt.datum.status == "over 100 %", alt.value("white"), alt.value("#222222")
        ),
    )
    n = data["resource"].nunique()
    return _configure((rect + text).properties(height=max(200, 52 * n + 110)))


def fte_chart(frame: pd.DataFrame, title: str = "") -> alt.Chart:
    """FTE needed (what demand asks for) against FTE planned, per month.

    Args:
        frame: columns month, fte_needed, fte_planned (one resource or summed).
    """
    long = frame.melt(
        id_vars=["month"],
        value_vars=["fte_needed", "fte_planned"],
        var_name="what",
        value_name="fte",
    )
    long["what"] = long["what"].map({"fte_needed": "FTE needed", "fte_planned": "FTE planned"})
    chart = (
        alt.Chart(long, title=title)
        .mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=_month_x(),
            y=alt.Y("fte:Q", title="FTE"),
            color=alt.Color(
                "what:N",
                title=None,
                scale=alt.Scale(
                    domain=["FTE needed", "FTE planned"],
                    range=[STORY_COLORS["Demand"], STORY_COLORS["Supply"]],
                ),
            ),
            tooltip=["month", "what", alt.Tooltip("fte:Q", format=",.1f")],
        )
        .properties(height=HEIGHT)
    )
    return _configure(chart)


def cash_chart(
    frame: pd.DataFrame, minimum_cash: float, currency: str, title: str = ""
) -> alt.Chart:
    """Closing cash by month with the minimum-cash line; months below it marked.

    Args:
        frame: columns month, closing_cash.
    """
    data = frame[["month", "closing_cash"]].assign(
        below=lambda d: d["closing_cash"] < minimum_cash, minimum=minimum_cash
    )
    base = alt.Chart(data, title=title)
    line = base.mark_area(
        line={"color": STORY_COLORS["Finance"], "strokeWidth": 2.5},
        color=STORY_COLORS["Finance"],
        opacity=0.15,
    ).encode(
        x=_month_x(),
        y=alt.Y("closing_cash:Q", title="Closing cash", axis=money_axis(currency, "Closing cash")),
        tooltip=["month", alt.Tooltip("closing_cash:Q", format=",.0f", title="closing cash")],
    )
    rule = base.mark_rule(**MINIMUM_RULE).encode(y="minimum:Q")
    below = (
        base.transform_filter(alt.datum.below)
        .mark_point(shape="triangle-down", size=160, filled=True, color=SEVERITY_COLORS["high"])
        .encode(x=_month_x(), y="closing_cash:Q")
    )
    label = (
        base.transform_filter("datum.month == " + repr(str(data["month"].iloc[-1])))
        .mark_text(align="right", dy=-8, fontSize=FONT, color=SEVERITY_COLORS["high"])
        .encode(x=_month_x(), y="minimum:Q", text=alt.value("minimum cash"))
    )
    return _configure((line + rule + below + label).properties(height=HEIGHT))


# The fan chart's parts: the 80 % range of the sampled paths, their median, the plan of record.
FAN_SERIES = {
    "range": "P10–P90 of the demand paths",
    "p50": "P50 (median path)",
    "point": "Plan of record",
}


def story_lines_chart(frame: pd.DataFrame, currency: str, title: str = "") -> alt.Chart:
    """The three stories' revenue by month as lines (the board paper's chart).

    Args:
        frame: columns month, Demand, Supply, Finance (Finance may be missing).
    """
    names = {k: k for k in ("Demand", "Supply", "Finance") if k in frame.columns}
    return _money_lines(frame, names, [STORY_COLORS[k] for k in names], currency, title)


def fan_chart(
    frame: pd.DataFrame,
    currency: str,
    *,
    minimum: float | None = None,
    title: str = "",
    measure: str = "Closing cash",
    height: int = HEIGHT,
) -> alt.Chart:
    """A fan chart: the P10–P90 range of the sampled plans shaded, their P50 dashed, the plan of
    record solid, and the minimum-cash rule when given.

    Args:
        frame: columns month, p10, p50, p90, point (``views.ranges.fan_frame``).
        minimum: the minimum cash (a dashed rule, as on the cash chart); None = none.
        measure: what the money is (the axis title).
    """
    colour = STORY_COLORS["Finance"]
    data = frame[["month", "p10", "p50", "p90", "point"]].copy()
    lines = data.melt(
        id_vars=["month"], value_vars=["point", "p50"], var_name="key", value_name="amount"
    )
    lines["what"] = lines["key"].map(FAN_SERIES)
    drawn_names = [FAN_SERIES["point"], FAN_SERIES["p50"]]
    y_axis = money_axis(currency, measure)
    band = (
        alt.Chart(data.assign(what=FAN_SERIES["range"]))
        .mark_area(opacity=0.25)
        .encode(
            x=_month_x(),
            y=alt.Y("p10:Q", title=measure, axis=y_axis),
            y2="p90:Q",
            fill=alt.Fill(
                "what:N",
                title=None,
                scale=alt.Scale(domain=[FAN_SERIES["range"]], range=[colour]),
                legend=alt.Legend(symbolType="square", symbolOpacity=0.35, labelLimit=0),
            ),
            tooltip=[
                "month",
                alt.Tooltip("p10:Q", format=",.0f", title="P10"),
                alt.Tooltip("p50:Q", format=",.0f", title="P50"),
                alt.Tooltip("p90:Q", format=",.0f", title="P90"),
                alt.Tooltip("point:Q", format=",.0f", title="plan of record"),
            ],
        )
    )
    legend = alt.Legend(symbolType="stroke", symbolStrokeWidth=3, labelLimit=0)
    drawn = (
        alt.Chart(lines)
        .mark_line(strokeWidth=2.5)
        .encode(
            x=_month_x(),
            y=alt.Y("amount:Q", title=measure, axis=y_axis),
            color=alt.Color(
                "what:N",
                title=None,
                scale=alt.Scale(domain=drawn_names, range=[colour, "#444444"]),
                legend=legend,
            ),
            strokeDash=alt.StrokeDash(
                "what:N",
                title=None,
                scale=alt.Scale(domain=drawn_names, range=[[1, 0], [6, 3]]),
                legend=legend,
            ),
            tooltip=["month", "what", alt.Tooltip("amount:Q", format=",.0f")],
        )
    )
    layers = band + drawn
    if minimum is not None:
        level = pd.DataFrame({"month": [str(data["month"].iloc[-1])], "minimum": [float(minimum)]})
        rule = alt.Chart(level).mark_rule(**MINIMUM_RULE).encode(y="minimum:Q")
        label = (
            alt.Chart(level)
            .mark_text(align="right", dy=-8, fontSize=FONT, color=SEVERITY_COLORS["high"])
            .encode(x=_month_x(), y="minimum:Q", text=alt.value("minimum cash"))
        )
        layers = layers + rule + label
    return _configure(layers.properties(title=title, height=height))


def _money_lines(
    frame: pd.DataFrame, names: dict[str, str], colours: list[str], currency: str, title: str
) -> alt.Chart:
    """Lines of money by month, one per column of ``frame`` named in ``names`` (column → label)."""
    long = frame.melt(
        id_vars=["month"], value_vars=list(names), var_name="what", value_name="amount"
    )
    long["what"] = long["what"].map(names)
    chart = (
        alt.Chart(long, title=title)
        .mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=_month_x(),
            y=alt.Y("amount:Q", axis=money_axis(currency, currency)),
            color=alt.Color(
                "what:N", title=None, scale=alt.Scale(domain=list(names.values()), range=colours)
            ),
            tooltip=["month", "what", alt.Tooltip("amount:Q", format=",.0f")],
        )
        .properties(height=HEIGHT)
    )
    return _configure(chart)


def pnl_chart(frame: pd.DataFrame, currency: str, title: str = "") -> alt.Chart:
    """Revenue, gross margin and operating profit by month.

    Args:
        frame: columns month, revenue, gross_margin, operating_profit.
    """
    names = {
        "revenue": "Revenue",
        "gross_margin": "Gross margin",
        "operating_profit": "Operating profit",
    }
    return _money_lines(
        frame, names, [STORY_COLORS["Demand"], STORY_COLORS["Finance"], "#444444"], currency, title
    )


def stories_chart(
    stories: pd.DataFrame, marks: pd.DataFrame, currency: str, title: str = ""
) -> alt.Chart:
    """The three stories in money by month (lines), disagreements marked in place, and the gaps below.

    Args:
        stories: columns month, story (Demand, Supply, Finance), value.
        marks: columns month, type, entity, money_at_stake, severity, y (where to draw the mark).
    """
    months = list(dict.fromkeys(stories["month"]))
    x = alt.X(
        "month:O",
        title=None,
        sort=months,
        axis=alt.Axis(labelAngle=-45, labelExpr=MONTH_LABEL_EXPR),
    )
    lines = (
        alt.Chart(stories)
        .mark_line(point=alt.OverlayMarkDef(size=40), strokeWidth=3)
        .encode(
            x=x,
            y=alt.Y(
                "value:Q",
                title="Revenue",
                axis=money_axis(currency, "Revenue"),
                scale=alt.Scale(zero=False),
            ),
            color=alt.Color(
                "story:N",
                title="Story",
                scale=alt.Scale(domain=list(STORY_COLORS), range=list(STORY_COLORS.values())),
                legend=alt.Legend(symbolSize=220, symbolStrokeWidth=4),
            ),
            tooltip=["month", "story", alt.Tooltip("value:Q", format=",.0f")],
        )
    )
    layers = [lines]
    if len(marks):
        layers.append(
            alt.Chart(marks)
            .mark_point(shape="diamond", filled=True, stroke="white", strokeWidth=1, opacity=0.9)
            .encode(
                x=x,
                y="y:Q",
                size=alt.Size(
                    "money_at_stake:Q",
                    title="Money at stake",
                    scale=alt.Scale(range=[60, 900]),
                    legend=None,
                ),
                fill=alt.Fill(
                    "severity:N",
                    title="Worst disagreement",
                    scale=alt.Scale(
                        domain=SEVERITY_ORDER, range=[SEVERITY_COLORS[s] for s in SEVERITY_ORDER]
                    ),
                    legend=alt.Legend(symbolSize=220, symbolType="diamond"),
                ),
                tooltip=[
                    "month",
                    alt.Tooltip("story:N", title="story"),
                    alt.Tooltip("type:N", title="disagreements"),
                    alt.Tooltip("entity:N", title="where"),
                    alt.Tooltip("count:Q", title="how many"),
                    "severity",
                    alt.Tooltip("money_at_stake:Q", format=",.0f", title="money at stake"),
                ],
            )
        )
    return _configure(
        alt.layer(*layers, title=title)
        .resolve_scale(color="independent")
        .properties(height=HEIGHT + 120)
    )


def bridge_chart(steps: pd.DataFrame, currency: str, title: str = "") -> alt.Chart:
    """A waterfall from a start figure to an end figure, each bar labelled with its amount.

    The axis does not start at zero, so steps small against the totals stay visible.

    Args:
        steps: columns step, amount, kind ('total' for the start and end bars, 'delta' for the rest), in order.
    """

    data = steps.reset_index(drop=True).copy()
    start, ends = [], []
    running = 0.0
    for amount, kind in zip(data["amount"], data["kind"], strict=True):
        if kind == "total":
            start.append(0.0)
            ends.append(amount)
            running = amount
        else:
            start.append(running)
            running += amount
            ends.append(running)
    data["start"], data["end"], data["order"] = start, ends, range(len(data))
    data["top"] = data[["start", "end"]].max(axis=1)
    data["colour"] = [
        "total" if k == "total" else ("increase" if a >= 0 else "decrease")
        for a, k in zip(data["amount"], data["kind"], strict=True)
    ]
    data["label"] = [
        money(a, currency) if k == "total" else signed_money(a, currency)
        for a, k in zip(data["amount"], data["kind"], strict=True)
    ]
    moving = data.loc[data["kind"] != "total", ["start", "end"]].to_numpy()
    totals = data.loc[data["kind"] == "total", "amount"].to_numpy()
    lo = float(min(moving.min() if moving.size else totals.min(), totals.min()))
    hi = float(max(moving.max() if moving.size else totals.max(), totals.max()))
    pad = max((hi - lo) * 0.6, abs(hi) * 0.02, 1.0)
    domain = [lo - pad, hi + pad * 0.5]
    x = alt.X(
        "step:N",
        sort=alt.SortField("order"),
        title=None,
        # one word a line: "Demand change" beside "Plan 2026-10" no longer runs together on a
        # small chart
        axis=alt.Axis(
            labelAngle=0, labelLimit=200, labelOverlap=False, labelExpr="split(datum.label, ' ')"
        ),
    )
    base = alt.Chart(data, title=title)
    bars = base.mark_bar(size=56, clip=True).encode(
        x=x,
        y=alt.Y(
            "start:Q",
            axis=money_axis(currency, currency),
            scale=alt.Scale(domain=domain, zero=False),
        ),
        y2="end:Q",
        color=alt.Color(
            "colour:N",
            legend=None,
            scale=alt.Scale(
                domain=["total", "increase", "decrease"],
                range=["#555555", STORY_COLORS["Finance"], SEVERITY_COLORS["high"]],
            ),
        ),
        tooltip=["step", alt.Tooltip("amount:Q", format=",.0f")],
    )
    labels = base.mark_text(dy=-10, fontSize=FONT, fontWeight="bold").encode(
        x=x, y="top:Q", text="label:N"
    )
    return _configure((bars + labels).properties(height=HEIGHT))


def scenario_curves_chart(
    frame: pd.DataFrame,
    currency: str,
    title: str = "",
    colors: dict[str, str] | None = None,
    minimum: float | None = None,
) -> alt.Chart:
    """Closing cash and gross margin of base and scenario(s) on one chart.

    Args:
        frame: columns month, plan (e.g. Base, Scenario), measure (Closing cash, Gross margin), amount.
        colors: optional plan → colour (e.g. the base plan grey); plans not in it, and every plan
            when it is None, take Vega's category colours.
        minimum: the minimum cash, drawn as a dashed red rule (its own inline data, so the
            spec stays valid when the lines' data is sent apart from it); None = none.
    """
    plans = list(dict.fromkeys(frame["plan"]))
    scale = alt.Undefined
    if colors:
        fallback = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]
        scale = alt.Scale(
            domain=plans,
            range=[colors.get(p, fallback[i % len(fallback)]) for i, p in enumerate(plans)],
        )
    chart = (
        alt.Chart(frame)
        .mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=_month_x(),
            y=alt.Y("amount:Q", axis=money_axis(currency, currency)),
            color=alt.Color("plan:N", title=None, sort=plans, scale=scale),
            # a dash in the legend, not a dot: which measure is the dashed line
            strokeDash=alt.StrokeDash(
                "measure:N",
                title=None,
                legend=alt.Legend(
                    symbolType="stroke",
                    symbolStrokeColor="#333333",
                    symbolStrokeWidth=2.5,
                    symbolSize=400,
                    orient="bottom",
                ),
            ),
            tooltip=["month", "plan", "measure", alt.Tooltip("amount:Q", format=",.0f")],
        )
    )
    if minimum is not None:
        level = alt.Data(values=[{"minimum": float(minimum), "label": "minimum cash"}])
        rule = (
            alt.Chart(level)
            .mark_rule(**MINIMUM_RULE)
            .encode(y="minimum:Q", tooltip=[alt.Tooltip("minimum:Q", format=",.0f")])
        )
        chart = alt.layer(chart, rule)
    return _configure(chart.properties(title=title, height=HEIGHT))


def bias_chart(frame: pd.DataFrame, tolerance_pct: float, title: str = "") -> alt.Chart:
    """Forecast bias % by family and source, with the tolerance band.

    Args:
        frame: columns source, family, bias_pct, verdict.
    """
    base = alt.Chart(frame, title=title)
    bars = base.mark_bar().encode(
        y=alt.Y("family:N", title=None),
        yOffset="source:N",
        x=alt.X("bias_pct:Q", title="Bias % (forecast − actual) / actual"),
        color=alt.Color(
            "source:N",
            title="Source",
            scale=alt.Scale(
                domain=["sales", "marketing", "consensus", "statistical"],
                range=[
                    SERIES_COLORS["Sales"],
                    SERIES_COLORS["Marketing"],
                    SERIES_COLORS["Consensus"],
                    SERIES_COLORS["Statistical"],
                ],
            ),
        ),
        tooltip=["family", "source", alt.Tooltip("bias_pct:Q", format="+.1f"), "verdict"],
    )
    band = (
        alt.Chart(pd.DataFrame({"lo": [-tolerance_pct], "hi": [tolerance_pct]}))
        .mark_rect(opacity=0.12, color="#555555")
        .encode(x="lo:Q", x2="hi:Q")
    )
    return _configure((band + bars).properties(height=max(260, 110 * frame["family"].nunique())))


END_OF_LIFE_COLOR = "#7F7F7F"  # stock of products past their end: grey, it no longer sells
STOCK_KINDS = ("on sale", "past end of life")


def inventory_cover_chart(frame: pd.DataFrame, title: str = "") -> alt.Chart:
    """Projected end inventory (units, bars) and days of cover (line), by month; the stock of
    products past their end month stacked in grey when there is any (the run-down of a phase-out).

    Args:
        frame: columns month, end_inventory_units, cover_days; optionally end_of_life_units.
    """
    base = alt.Chart(frame, title=title).encode(x=_month_x())
    tooltip = [
        "month",
        alt.Tooltip("end_inventory_units:Q", format=",.0f"),
        alt.Tooltip("cover_days:Q", format=",.0f"),
    ]
    ended = frame.get("end_of_life_units")
    if ended is not None and (ended > 0).any():
        stacked = frame.assign(
            **{
                STOCK_KINDS[0]: frame["end_inventory_units"] - ended,
                STOCK_KINDS[1]: ended,
            }
        )
        bars = (
            alt.Chart(stacked)
            .transform_fold(list(STOCK_KINDS), as_=["stock", "units"])
            .mark_bar(opacity=0.7)
            .encode(
                x=_month_x(),
                y=alt.Y("units:Q", stack="zero", title="End inventory (units)"),
                color=alt.Color(
                    "stock:N",
                    title=None,
                    scale=alt.Scale(
                        domain=list(STOCK_KINDS),
                        range=[STORY_COLORS["Supply"], END_OF_LIFE_COLOR],
                    ),
                ),
                order=alt.Order("stock:N", sort="ascending"),
                tooltip=[*tooltip, "stock:N", alt.Tooltip("units:Q", format=",.0f")],
            )
        )
    else:
        bars = base.mark_bar(color=STORY_COLORS["Supply"], opacity=0.7).encode(
            y=alt.Y("end_inventory_units:Q", title="End inventory (units)"), tooltip=tooltip
        )
    line = base.mark_line(color="#222222", point=True, strokeWidth=2.5).encode(
        y=alt.Y("cover_days:Q", title="Days of cover")
    )
    return _configure(
        alt.layer(bars, line).resolve_scale(y="independent").properties(height=HEIGHT)
    )


def run_down_chart(frame: pd.DataFrame, title: str = "") -> alt.Chart:
    """One product's end inventory (bars, grey after its end) and its demand (line), by month.

    Args:
        frame: columns month, end_inventory_units, demand_units, phase (``lifecycle.run_down``).
    """
    phases = ["before launch", "on sale", "after the end"]
    base = alt.Chart(frame, title=title).encode(x=_month_x())
    bars = base.mark_bar(opacity=0.75).encode(
        y=alt.Y("end_inventory_units:Q", title="Units"),
        color=alt.Color(
            "phase:N",
            title="End inventory",
            scale=alt.Scale(
                domain=phases, range=["#F3D28B", STORY_COLORS["Supply"], END_OF_LIFE_COLOR]
            ),
        ),
        tooltip=[
            "month",
            "phase",
            alt.Tooltip("end_inventory_units:Q", title="end inventory", format=",.0f"),
            alt.Tooltip("demand_units:Q", title="demand", format=",.0f"),
        ],
    )
    line = base.mark_line(color=STORY_COLORS["Demand"], point=True, strokeWidth=2.5).encode(
        y="demand_units:Q"
    )
    return _configure(alt.layer(bars, line).properties(height=HEIGHT))


def working_capital_chart(frame: pd.DataFrame, currency: str, title: str = "") -> alt.Chart:
    """Receivables, inventory value and payables by month.

    Args:
        frame: columns month, receivables, inventory_value, payables.
    """
    names = {"receivables": "Receivables", "inventory_value": "Inventory", "payables": "Payables"}
    return _money_lines(
        frame, names, [STORY_COLORS["Demand"], STORY_COLORS["Supply"], "#444444"], currency, title
    )


GAP_ADVERSE = "#C0392B"  # a gap that costs: below budget, sales lost, over capacity, short of cash
GAP_FAVOURABLE = "#7F8C8D"


def gap_panels_chart(gaps: pd.DataFrame, currency: str, width: int = 760) -> alt.Chart:
    """Small multiples, one per gap between the stories (``alignment.story_gaps``): bars by month
    from a zero line, the adverse side in red, each panel's largest root cause as its subtitle."""
    panels = list(dict.fromkeys(gaps["panel"]))
    months = list(dict.fromkeys(gaps["month"]))
    charts = []
    for panel in panels:
        part = gaps[gaps["panel"] == panel]
        unit = part["unit"].iloc[0]
        note = next((n for n in part["note"] if n), "")
        # which sign costs: "Forecast against the baseline" costs either way (it is a risk)
        adverse = (
            "datum.value != 0"
            if panel.startswith("Forecast")
            else ("datum.value > 0" if panel.startswith("Hours") else "datum.value < 0")
        )
        axis = money_axis(currency, None) if unit == currency else alt.Axis(title=unit, format="~s")
        base = alt.Chart(part).encode(
            x=alt.X(
                "month:O",
                sort=months,
                title=None,
                axis=alt.Axis(labelAngle=-45, labelExpr=MONTH_LABEL_EXPR),
            )
        )
        bars = base.mark_bar().encode(
            y=alt.Y("value:Q", axis=axis),
            color=alt.condition(adverse, alt.value(GAP_ADVERSE), alt.value(GAP_FAVOURABLE)),
            tooltip=["month", alt.Tooltip("value:Q", format=",.0f", title=unit)],
        )
        zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#333").encode(y="y:Q")
        title = alt.TitleParams(panel, subtitle=[note] if note else [], subtitleFontSize=FONT - 1)
        charts.append(alt.layer(bars, zero).properties(title=title, height=120, width=width))
    return _configure(alt.vconcat(*charts, spacing=28).resolve_scale(y="independent"))


TORNADO_SIDES = {"low": "One step down", "high": "One step up"}


def tornado_chart(
    frame: pd.DataFrame, measure: str, currency: str, title: str = "", unit: str | None = None
) -> alt.Chart:
    """A tornado: for each lever, the bar from the base figure to the figure one step down and to
    the figure one step up, biggest swing on top; a rule at the base.

    Args:
        frame: sensitivity rows (``plan.sensitivity``): label (how a person reads the lever and
            its steps), measure, base, at_low, at_high; only ``measure``'s rows are drawn.
        unit: the axis title (default the currency: the measures are money).
    """
    rows = frame[frame["measure"] == measure]
    swing = pd.concat(
        [(rows["at_low"] - rows["base"]).abs(), (rows["at_high"] - rows["base"]).abs()], axis=1
    ).max(axis=1)
    order = rows.assign(_swing=swing).sort_values("_swing", ascending=False, kind="stable")
    levers = list(dict.fromkeys(order["label"]))
    parts = []
    for side, column in (("low", "at_low"), ("high", "at_high")):
        parts.append(
            pd.DataFrame(
                {
                    "label": rows["label"].to_numpy(),
                    "side": TORNADO_SIDES[side],
                    "start": rows["base"].to_numpy(dtype=float),
                    "end": rows[column].to_numpy(dtype=float),
                    "change": (rows[column] - rows["base"]).to_numpy(dtype=float),
                }
            )
        )
    data = pd.concat(parts, ignore_index=True)
    data["text"] = [signed_money(v, currency) for v in data["change"]]
    base_value = float(rows["base"].iloc[0]) if len(rows) else 0.0
    y = alt.Y("label:N", sort=levers, title=None, axis=alt.Axis(labelLimit=320))
    bars = (
        alt.Chart(data, title=title)
        .mark_bar(size=18)
        .encode(
            y=y,
            x=alt.X(
                "start:Q",
                axis=money_axis(currency, unit or currency),
                scale=alt.Scale(zero=False),
            ),
            x2="end:Q",
            color=alt.Color(
                "side:N",
                title=None,
                sort=list(TORNADO_SIDES.values()),
                scale=alt.Scale(
                    domain=list(TORNADO_SIDES.values()),
                    range=[SEVERITY_COLORS["high"], STORY_COLORS["Demand"]],
                ),
            ),
            tooltip=["label", "side", alt.Tooltip("end:Q", format=",.0f"), "text"],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"base": [base_value]}))
        .mark_rule(color="#333333", strokeWidth=2)
        .encode(x="base:Q")
    )
    height = max(120, 34 * len(levers) + 40)
    return _configure((bars + rule).properties(height=height))


def accuracy_chart(history: pd.DataFrame, title: str = "") -> alt.Chart:
    """Each locked cycle's error (plan − actual, % of actual) by lag: one line per lag, cycles
    along the axis."""
    frame = history.assign(lag_label=[f"lag {k}" for k in history["lag"]])
    base = alt.Chart(frame, title=title).encode(
        x=alt.X("cycle:O", title="Locked cycle"),
        y=alt.Y("error_pct:Q", title="Plan − actual, % of actual"),
        color=alt.Color("lag_label:N", title="Months ahead"),
        tooltip=[
            "cycle",
            "month",
            "lag",
            alt.Tooltip("error_pct:Q", format="+.1f", title="error %"),
        ],
    )
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#888").encode(y="y:Q")
    return _configure((base.mark_line(point=True) + zero).properties(height=300))
