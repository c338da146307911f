"""Demand review: what the market will buy — history, baseline, each source's forecast, their track record, the consensus."""

import pandas as pd
import streamlit as st

from sop_core import fmt
from sop_core.errors import SopError
from sop_core.forecasting.consensus import (
    METHOD_LABELS,
    METHODS,
    consensus_units,
    get_choice,
    previous_choice,
    set_consensus,
)
from sop_core.months import month_label
from sop_core.views.charts import bias_chart, history_forecast_chart
from sop_core.views.demand import demand_series, family_demand_units, find_products
from sop_core.views.lifecycle import like_for_like_label, product_review, product_review_note
from sop_core.views.ranges import baseline_band
from sop_core.views.supply import sku_columns
from ui import auth, flash, plan, state, views
from ui.text import plain
from ui.widgets import delta, notice

store = state.get_store()
cycle = state.selected_cycle(store)
family = state.selected_family()
data = state.plan_data(store, cycle)
result, plan_label, _ = plan.cycle_plan(store, cycle)
model = result.model
tolerance = data.settings.tolerance_pct
cur = data.settings.currency
AHEAD = {1: "1 month", 2: "2 months", 3: "3 months"}

st.title("Demand review")
st.caption(
    f"What the market will buy · cycle {cycle} · {plain(family or 'all families')} · {plain(plan_label)}. "
    "The plan uses the consensus where given, else the sales forecast, else the statistical baseline."
)

st.subheader("Product review: launches and ends")
review = product_review(result, family)
st.caption(product_review_note(review, data.settings.currency))
if len(review):
    cur = data.settings.currency
    st.dataframe(
        pd.DataFrame(
            {
                "product": review["name"],
                "launch": [
                    month_label(m) if isinstance(m, str) else "—" for m in review["launch_month"]
                ],
                "end": [month_label(m) if isinstance(m, str) else "—" for m in review["end_month"]],
                "like-for-like on": review["like_for_like"],
                "demand": [fmt.units(v) for v in review["demand_units"]],
                "revenue": [fmt.money(v, cur) for v in review["revenue"]],
                "stock left": [fmt.units(v) for v in review["stock_left_units"]],
                "at cost": [fmt.money(v, cur) for v in review["stock_left_value"]],
            }
        ),
        hide_index=True,
        # every column in sight at 1280 px: the names wrap to the width given
        column_config={
            "product": st.column_config.TextColumn(width="medium"),
            "like-for-like on": st.column_config.TextColumn(width="medium"),
            "demand": st.column_config.TextColumn(help="Planned demand over the horizon, units"),
            "stock left": st.column_config.TextColumn(help="Units on hand after the end month"),
            "at cost": st.column_config.TextColumn(help="The stock left valued at unit cost"),
        },
        key="demand_product_review",
    )

skus = model.skus[sku_columns(model, family)]
names = data.products.set_index("sku")["name"]
find, pick = st.columns([1, 2])
text = find.text_input(
    "Find a product",
    key="demand_sku_find",
    placeholder="sku or part of its name",
    help="Narrows the drill-down list to the products whose sku or name contains this.",
)
matches, total = find_products(skus, names, text)
chosen = st.session_state.get("demand_sku")
if chosen not in (None, "All products", *matches) and chosen in set(skus):
    matches = [chosen, *matches]  # keep what is shown while the search changes
sku = pick.selectbox(
    "Drill down to a product",
    ["All products", *matches],
    format_func=lambda s: s if s == "All products" else f"{s} · {names.get(s, '')}",
    key="demand_sku",
)
if total > len(matches):
    pick.caption(f"{len(matches)} of {total:,} products listed: type in Find a product to narrow.")
elif text.strip() and not total:
    pick.caption("No product's sku or name contains that text.")
sku = None if sku == "All products" else sku
REVENUE, UNITS = "Revenue at plan prices", "Units"
if sku is None:
    # products of different prices do not add up in units: money at plan prices by default
    shown = st.segmented_control(
        "Show", [REVENUE, UNITS], default=REVENUE, key="demand_measure", required=True
    )
    if shown == UNITS:
        st.caption(
            "Units of every product added up: the cheapest part counts as much as the dearest product."
        )
else:
    shown = UNITS
at_prices = shown == REVENUE
series = demand_series(data, result, family=family, sku=sku, at_prices=at_prices)
band, band_label = baseline_band(result, family=family, sku=sku, at_prices=at_prices)
what = sku or family or "all families"
like = like_for_like_label(model, sku)
st.altair_chart(
    history_forecast_chart(
        series,
        title=f"{shown} per month: {what}" + (f" · {like}" if like else ""),
        band=band,
        band_label=band_label,
        currency=cur,
    ),
    width="stretch",
)
if series.attrs.get("partial"):
    st.caption(
        f"{' and '.join(series.attrs['partial'])}: drawn only in the months where every product "
        "shown has it (a sum over some products would look like a fall in demand)."
    )
if len(band):
    st.caption(
        "Shaded: the statistical baseline's 80 % band, where 8 months in 10 should fall."
        if sku is not None
        else "Shaded: the statistical baseline's 80 % bands of the skus added up: wider than "
        "the band of the total unless the skus move together."
    )

st.subheader("Track record: who inflates, who sandbags")
try:
    track, bias, fva = views.track_tables(store, cycle)
except SopError as exc:
    track = None
    notice(f"Track record unavailable: {plain(exc)}")
if track is not None:
    if track.empty:
        st.info(
            "No track record yet: it needs past cycles' forecasts and the actuals of the months they forecast."
        )
    else:
        by_family = bias[(bias["family"] != "All") & (bias["n_points"] > 0)]
        if family:
            by_family = by_family[by_family["family"] == family]
        left, right = st.columns([3, 2], gap="large")
        with left:
            st.altair_chart(
                bias_chart(
                    by_family,
                    tolerance,
                    title=f"Bias, 1 to 3 months ahead (grey band: ±{tolerance:g} % tolerance)",
                ),
                width="stretch",
            )
        with right:
            people = by_family[by_family["source"].isin(["sales", "marketing"])]
            flags = people[people["verdict"].isin(["inflating", "sandbagging"])]
            if flags.empty:
                st.success("Neither sales nor marketing is biased beyond tolerance.")
            for _, row in flags.iterrows():
                icon = (
                    ":material/trending_up:"
                    if row["verdict"] == "inflating"
                    else ":material/trending_down:"
                )
                st.warning(
                    f"**{plain(row['source'].title())} · {plain(row['family'])}**: {row['verdict']} "
                    f"(forecasts {fmt.pct(row['bias_pct'], signed=True)} off on average, error "
                    f"{fmt.pct(row['wmape_pct'])}, over {int(row['n_points']):,} product-months).",
                    icon=icon,
                )
        fam_key = family or "All"
        table = track[track["family"] == fam_key][
            ["source", "lag", "n_points", "bias_pct", "wmape_pct"]
        ]
        wide = table.pivot_table(index="source", columns="lag", values=["bias_pct", "wmape_pct"])
        wide.columns = [
            f"{'Bias' if k == 'bias_pct' else 'Error'}, {AHEAD.get(lag, f'{lag} months')} ahead (%)"
            for k, lag in wide.columns
        ]
        wide.index = [str(s).title() for s in wide.index]
        st.caption(
            f"How far each source's forecasts were off, by how far ahead they were made — "
            f"{plain(fam_key) if fam_key != 'All' else 'all families'}. **Bias** = Σ(forecast − "
            "actual) ÷ Σ actual: above 0 the source forecasts too much. **Error** = Σ|forecast − "
            "actual| ÷ Σ actual (weighted by volume). 1 month ahead = the cycle's own month."
        )
        st.dataframe(wide.round(1), key="demand_track")
        fva_view = fva[fva["family"] == fam_key]
        if len(fva_view):
            st.caption(
                "Does a source beat the statistical baseline? Its error's lead over the baseline's, "
                "in percentage points: above 0 the people's forecast is better than the statistics "
                "alone, below 0 it makes the forecast worse."
            )
            fv = fva_view.pivot_table(index="source", columns="lag", values="fva_pct_points")
            fv.columns = [f"{AHEAD.get(lag, f'{lag} months')} ahead (points)" for lag in fv.columns]
            fv.index = [str(s).title() for s in fv.index]
            st.dataframe(fv.round(1), key="demand_fva")

st.subheader("Set the consensus")
FORM_KEYS = (
    "demand_consensus_method",
    "demand_consensus_adjustment",
    "demand_w_sales",
    "demand_w_marketing",
    "demand_w_statistical",
)
families = list(model.families)
if not cycle:
    st.info(
        "Import forecasts with their cycle to start an S&OP cycle; the consensus is set per cycle."
    )
else:
    cfam = st.selectbox(
        "Family",
        families,
        index=families.index(family) if family in families else 0,
        key="demand_consensus_family",
    )
    # The form's inputs start from the family's choice: when the family (or cycle) changes, let
    # them take the new starting values (the reason typed so far is kept).
    choice = get_choice(store, cycle, cfam)
    if st.session_state.get("demand_form_for") != (cycle, cfam):
        st.session_state["demand_form_for"] = (cycle, cfam)
        # the version the form is loaded from: a save is checked against it, not against
        # whatever is stored when the button is pressed
        st.session_state["demand_loaded_version"] = choice.version if choice else None
        for key in FORM_KEYS:
            st.session_state.pop(key, None)
    earlier = None if choice else previous_choice(store, cycle, cfam)
    start = choice or (earlier[1] if earlier else None)  # what the form starts from
    if choice:
        st.caption(
            f"Current choice: {plain(choice.describe())} — set by {plain(choice.author)} "
            f"({plain(choice.reason)})."
        )
    elif earlier:
        st.caption(
            f"Not set in cycle {cycle} yet. Last set in cycle {earlier[0]}: "
            f"{plain(earlier[1].describe())} — by {plain(earlier[1].author)} "
            f"({plain(earlier[1].reason)}). The form "
            "starts from it; set it again, with today's reason, to keep it for this cycle."
        )
    flash.show("demand")
    # the choice itself sits outside the form so that the preview follows it as it changes;
    # only the reason and the button are in the form (a reason half-typed is not sent)
    c1, c2 = st.columns(2)
    method = c1.radio(
        "Consensus from",
        METHODS,
        index=METHODS.index(start.method) if start else 0,
        format_func=METHOD_LABELS.get,
        key="demand_consensus_method",
        horizontal=True,
    )
    adjustment = c2.number_input(
        "Adjustment (%)",
        value=float(start.adjustment_pct) if start else 0.0,
        step=1.0,
        key="demand_consensus_adjustment",
        help="Applied on top of the chosen source, e.g. −5 to take 5 % off.",
    )
    saved = start.weights if start else {}
    blend = dict(saved) or {"sales": 1.0, "marketing": 1.0, "statistical": 1.0}
    if method == "blend":
        st.caption("Blend weights: each source's share of the consensus is its weight ÷ their sum.")
        w1, w2, w3 = st.columns(3)
        for column, name, label in (
            (w1, "sales", "Sales weight"),
            (w2, "marketing", "Marketing weight"),
            (w3, "statistical", "Statistical weight"),
        ):
            blend[name] = column.number_input(
                label, 0.0, 10.0, float(saved.get(name, 1.0)), key=f"demand_w_{name}"
            )
    weights = blend if method == "blend" else None
    try:
        preview = consensus_units(model, cfam, method, weights, adjustment)
    except SopError as exc:
        preview = None
        st.error(plain(exc))
    else:
        total = float(preview["units"].sum())
        st.metric(
            f"Consensus for {plain(cfam)} over the horizon (units)",
            fmt.units(total),
            delta(
                fmt.units(total - family_demand_units(result, cfam), signed=True)
                + " against the plan now"
            ),
            delta_color="off",
        )
    with st.form("demand_consensus_form"):
        reason = st.text_input(
            "Reason (required)",
            key="demand_consensus_reason",
            placeholder="e.g. Sales has inflated Smart Controls by 20 % for six cycles; take the baseline.",
        )
        refused = auth.why_not("consensus:set", store)
        submitted = st.form_submit_button(
            "Set consensus",
            type="primary",
            key="demand_consensus_set",
            disabled=refused is not None,
        )
        if refused:
            st.caption(refused)
    st.button(
        "Reload the stored choice",
        key="demand_consensus_reload",
        on_click=lambda: st.session_state.pop("demand_form_for", None),
        help="Load the stored consensus again (after someone else set it).",
    )
    if submitted and preview is not None:  # (a choice that cannot be computed is shown above)
        try:
            auth.check("consensus:set", detail=f"{cycle} {cfam}", store=store)
            set_consensus(
                store,
                model,
                cfam,
                method,
                weights=weights,
                adjustment_pct=adjustment,
                reason=reason,
                user=state.user_name(),
                expected_version=st.session_state.get("demand_loaded_version"),
            )
        except SopError as exc:
            st.error(plain(exc))
        else:
            state.after_write()
            st.session_state.pop("demand_form_for", None)  # reload the form from what is stored
            flash.say(
                "demand",
                "success",
                f"Consensus for {plain(cfam)} set: {fmt.units(total)} units over the horizon. "
                "The plan is updated.",
            )
            st.rerun()
