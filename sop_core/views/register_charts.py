"""Charts of the assumption register: one assumption's value across cycles."""

from __future__ import annotations

import altair as alt
import pandas as pd

from sop_core.views.charts import FONT, HEIGHT, SERIES_COLORS

__all__ = ["assumption_history_chart"]


def assumption_history_chart(history: pd.DataFrame, title: str = "") -> alt.Chart:
    """The assumption's value in each cycle (a line with labelled points; drifted steps stand out).

    Args:
        history: ``register.assumption_history`` (cycle, value, number, unit, reviewed_at, kind);
            rows whose value is not a number are left out.
    """
    data = history[history["number"].notna()].copy()
    data["number"] = data["number"].astype(float)
    data["reviewed"] = pd.to_datetime(data["reviewed_at"]).dt.strftime("%Y-%m-%d").fillna("never")
    unit = next((u for u in data["unit"] if isinstance(u, str) and u), "")
    base = alt.Chart(data, title=title).encode(
        x=alt.X("cycle:O", title="Cycle", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("number:Q", title=unit or "Value", scale=alt.Scale(zero=False)),
        tooltip=[
            alt.Tooltip("cycle:O", title="Cycle"),
            alt.Tooltip("number:Q", title="Value", format=",~g"),
            alt.Tooltip("reviewed:N", title="Last reviewed"),
        ],
    )
    line = base.mark_line(strokeWidth=3, color=SERIES_COLORS["Plan"])
    points = base.mark_point(size=90, filled=True, color=SERIES_COLORS["Plan"])
    # the number as a person writes it (52, 2.5), not as stored ("52.000000")
    labels = base.mark_text(dy=-14, fontSize=FONT).encode(text=alt.Text("number:Q", format=",~g"))
    chart = alt.layer(line, points, labels).properties(height=HEIGHT)
    return (
        chart.configure_axis(labelFontSize=FONT, titleFontSize=FONT, grid=True, gridOpacity=0.4)
        .configure_title(fontSize=FONT + 2, anchor="start")
        .configure_view(strokeWidth=0)
    )
