"""Generate the bundled demo company (``sop_core/demo/*.csv``): seeded, byte-for-byte deterministic.

Harlow & Finch Heating Ltd makes radiators, towel rails, valves and smart heating controls at
two UK sites (Harlow, Essex and Telford, Shropshire). Demand peaks in the autumn and winter, so
the 2027/28 heating season falls inside the plan horizon (2026-11 ... 2028-04). The data is
built to tell the stories the cockpit exists for (see ``sop_core/demo/README.md``):

1. Sales inflate the Smart Controls forecast (about +20 % over what shipped, cycle after cycle).
2. Sales sandbag Valves & Fittings (about -15 %).
3. Press & Weld in Harlow is overloaded in the 2027/28 peak, so radiator and towel rail demand
   goes unmet.
4. The budget expects more revenue in the second half of the horizon than supply can deliver.
5. The recruitment plan for Press & Weld copies last winter's headcount: labour, not machine
   hours, is the binding limit in the peak.
6. Closing cash dips below the minimum in the autumn of 2027 (stock build, receivables,
   capex and corporation tax at once).
7. Products start and stop: the Wireless Room Thermostat ends in February 2027 and its Gen 2
   successor launches in March 2027, planned like the current model; the anthracite straight
   towel rail ends in December 2026 with stock left from a last-time buy.

Usage: ``python scripts/make_demo.py [OUT_DIR]`` (default ``sop_core/demo``). Running it twice gives
identical files. ``reference_plan`` and ``story_numbers`` are a small, independent
implementation of the reference method of PRODUCT.md, used to check the story.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261124
COMPANY = "Harlow & Finch Heating Ltd"
FIRST_ACTUAL = "2023-11"
N_ACTUALS = 36
PLAN_START = "2026-11"
HORIZON = 18
PAST_CYCLES = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
PAST_CYCLE_MONTHS = 12  # each past cycle forecasts its own month and the 11 after it
CONSENSUS_MONTHS = 6  # the current cycle has an agreed consensus for its first 6 months
DAYS = 30.0

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "sop_core" / "demo"

# Exactly the contract's column names, in contract order.
COLUMNS = {
    "products": [
        "sku",
        "name",
        "family",
        "unit_price",
        "unit_material_cost",
        "unit_variable_cost",
        "target_cover_days",
        "launch_month",
        "end_month",
        "like_sku",
        "like_share",
    ],
    "actuals": ["month", "sku", "units"],
    "forecasts": ["cycle", "month", "sku", "source", "units"],
    "inventory": ["sku", "on_hand_units"],
    "resources": ["resource", "site", "hours_per_fte", "cost_per_fte"],
    "routings": ["sku", "resource", "hours_per_unit"],
    "capacity": ["month", "resource", "available_hours"],
    "headcount": ["month", "resource", "planned_fte"],
    "supply_limits": ["month", "sku", "max_units"],
    "budget": [
        "month",
        "family",
        "revenue",
        "gross_margin",
        "closing_inventory_value",
        "headcount_fte",
    ],
    "cash_items": ["month", "item", "amount"],
    "financial_actuals": [
        "month",
        "revenue",
        "gross_margin",
        "operating_profit",
        "closing_cash",
        "receivables",
        "payables",
        "inventory_value",
    ],
    "settings": ["key", "value"],
}

RADIATORS = "Panel Radiators"
TOWEL_RAILS = "Towel Rails"
VALVES = "Valves & Fittings"
SMART = "Smart Controls"
FAMILIES = [RADIATORS, TOWEL_RAILS, VALVES, SMART]
INFLATED_FAMILY = SMART
SANDBAGGED_FAMILY = VALVES

PRESS = "Press & Weld"
COAT = "Powder Coat Line"
PACK = "Harlow Packing"
CNC = "CNC Machining"
ASSEMBLY = "Telford Assembly"
OVERLOADED_RESOURCE = PRESS

# resource: (site, hours_per_fte, cost_per_fte)
RESOURCES = {
    PRESS: ("Harlow", 150.0, 3650.0),
    COAT: ("Harlow", 150.0, 3300.0),
    PACK: ("Harlow", 152.0, 3050.0),
    CNC: ("Telford", 148.0, 4200.0),
    ASSEMBLY: ("Telford", 145.0, 3150.0),
}

# family: yearly growth, seasonal shape (Jan..Dec), sku-month noise, material share,
#         variable share, cover days, sales bias, marketing bias, consensus bias
FAMILY = {
    RADIATORS: dict(
        growth=0.11,
        season=[1.38, 1.18, 0.95, 0.78, 0.66, 0.60, 0.62, 0.72, 0.95, 1.25, 1.45, 1.46],
        noise=0.07,
        material=0.46,
        variable=0.08,
        cover=7,
        sales_bias=0.02,
        marketing_bias=0.0,
        consensus_bias=0.0,
    ),
    TOWEL_RAILS: dict(
        growth=0.08,
        season=[1.15, 1.08, 1.00, 0.92, 0.86, 0.82, 0.84, 0.88, 0.98, 1.10, 1.18, 1.19],
        noise=0.08,
        material=0.42,
        variable=0.08,
        cover=14,
        sales_bias=-0.01,
        marketing_bias=0.01,
        consensus_bias=0.0,
    ),
    VALVES: dict(
        growth=0.04,
        season=[1.20, 1.10, 1.00, 0.90, 0.82, 0.78, 0.80, 0.86, 0.98, 1.15, 1.20, 1.21],
        noise=0.06,
        material=0.38,
        variable=0.06,
        cover=45,
        sales_bias=-0.15,
        marketing_bias=-0.01,
        consensus_bias=-0.04,
    ),
    SMART: dict(
        growth=0.16,
        season=[1.22, 1.02, 0.88, 0.80, 0.74, 0.70, 0.74, 0.84, 1.02, 1.25, 1.38, 1.41],
        noise=0.09,
        material=0.44,
        variable=0.05,
        cover=30,
        sales_bias=0.21,
        marketing_bias=0.0,
        consensus_bias=0.06,
    ),
}

# sku, name, family, price, units per month at the 2023-11 trend level, routing {resource: h/unit}
# fmt: off
SKUS = [
    ("RAD-11-0460", "Compact Radiator Type 11 450x600", RADIATORS, 46.0, 1500, {PRESS: 0.16, COAT: 0.10, PACK: 0.05}),
    ("RAD-11-0410", "Compact Radiator Type 11 450x1000", RADIATORS, 62.0, 1100, {PRESS: 0.20, COAT: 0.13, PACK: 0.06}),
    ("RAD-11-0660", "Compact Radiator Type 11 600x600", RADIATORS, 54.0, 1250, {PRESS: 0.18, COAT: 0.11, PACK: 0.05}),
    ("RAD-11-0610", "Compact Radiator Type 11 600x1000", RADIATORS, 74.0, 950, {PRESS: 0.22, COAT: 0.14, PACK: 0.06}),
    ("RAD-21-0460", "Compact Radiator Type 21 450x800", RADIATORS, 78.0, 800, {PRESS: 0.24, COAT: 0.13, PACK: 0.06}),
    ("RAD-21-0610", "Compact Radiator Type 21 600x1000", RADIATORS, 98.0, 900, {PRESS: 0.28, COAT: 0.16, PACK: 0.07}),
    ("RAD-21-0614", "Compact Radiator Type 21 600x1400", RADIATORS, 128.0, 520, {PRESS: 0.34, COAT: 0.19, PACK: 0.08}),
    ("RAD-22-0460", "Compact Radiator Type 22 450x800", RADIATORS, 92.0, 760, {PRESS: 0.28, COAT: 0.14, PACK: 0.06}),
    ("RAD-22-0610", "Compact Radiator Type 22 600x1000", RADIATORS, 118.0, 1050, {PRESS: 0.32, COAT: 0.17, PACK: 0.07}),
    ("RAD-22-0614", "Compact Radiator Type 22 600x1400", RADIATORS, 152.0, 560, {PRESS: 0.38, COAT: 0.20, PACK: 0.08}),
    ("RAD-22-0618", "Compact Radiator Type 22 600x1800", RADIATORS, 189.0, 300, {PRESS: 0.44, COAT: 0.24, PACK: 0.09}),
    ("RAD-33-0612", "Compact Radiator Type 33 600x1200", RADIATORS, 198.0, 240, {PRESS: 0.48, COAT: 0.23, PACK: 0.09}),
    ("RAD-VT-1804", "Vertical Designer Radiator 1800x450 Anthracite", RADIATORS, 239.0, 260, {PRESS: 0.62, COAT: 0.30, PACK: 0.12}),
    ("RAD-VT-1806", "Vertical Designer Radiator 1800x600 White", RADIATORS, 259.0, 210, {PRESS: 0.68, COAT: 0.32, PACK: 0.12}),
    ("TWR-ST-0850", "Straight Towel Rail 800x500 Chrome", TOWEL_RAILS, 64.0, 900, {PRESS: 0.30, COAT: 0.10, PACK: 0.07}),
    ("TWR-ST-1250", "Straight Towel Rail 1200x500 Chrome", TOWEL_RAILS, 82.0, 700, {PRESS: 0.36, COAT: 0.12, PACK: 0.08}),
    ("TWR-CV-0850", "Curved Towel Rail 800x500 Chrome", TOWEL_RAILS, 72.0, 620, {PRESS: 0.34, COAT: 0.10, PACK: 0.07}),
    ("TWR-CV-1260", "Curved Towel Rail 1200x600 Chrome", TOWEL_RAILS, 96.0, 480, {PRESS: 0.40, COAT: 0.13, PACK: 0.08}),
    ("TWR-ST-1250A", "Straight Towel Rail 1200x500 Anthracite", TOWEL_RAILS, 92.0, 380, {PRESS: 0.36, COAT: 0.16, PACK: 0.08}),
    ("TWR-DS-1650B", "Designer Towel Rail 1600x500 Matt Black", TOWEL_RAILS, 168.0, 220, {PRESS: 0.55, COAT: 0.22, PACK: 0.10}),
    ("TWR-EL-0850", "Electric Towel Rail 800x500 Chrome", TOWEL_RAILS, 139.0, 300, {PRESS: 0.34, COAT: 0.10, PACK: 0.09, ASSEMBLY: 0.12}),
    ("TWR-EL-1250", "Electric Towel Rail 1200x500 White", TOWEL_RAILS, 169.0, 210, {PRESS: 0.40, COAT: 0.14, PACK: 0.10, ASSEMBLY: 0.14}),
    ("VLV-TRV-15A", "Thermostatic Radiator Valve 15mm Angled", VALVES, 11.5, 9800, {CNC: 0.024, ASSEMBLY: 0.012}),
    ("VLV-TRV-15S", "Thermostatic Radiator Valve 15mm Straight", VALVES, 11.5, 5200, {CNC: 0.024, ASSEMBLY: 0.012}),
    ("VLV-TRV-15C", "Thermostatic Radiator Valve 15mm Chrome Designer", VALVES, 24.0, 2100, {CNC: 0.032, ASSEMBLY: 0.016}),
    ("VLV-LS-15A", "Lockshield Valve 15mm Angled", VALVES, 4.2, 11500, {CNC: 0.015}),
    ("VLV-LS-15S", "Lockshield Valve 15mm Straight", VALVES, 4.2, 5600, {CNC: 0.015}),
    ("VLV-MN-15A", "Manual Radiator Valve 15mm Angled", VALVES, 5.6, 6400, {CNC: 0.017}),
    ("VLV-MN-15C", "Manual Radiator Valve 15mm Chrome", VALVES, 9.8, 2400, {CNC: 0.020}),
    ("VLV-DO-15", "Drain-off Cock 15mm", VALVES, 3.1, 3600, {CNC: 0.010}),
    ("VLV-BV-22", "Lever Ball Valve 22mm", VALVES, 8.9, 2900, {CNC: 0.022}),
    ("VLV-ZN-22", "Two-port Zone Valve 22mm", VALVES, 42.0, 900, {CNC: 0.050, ASSEMBLY: 0.060}),
    ("VLV-BR-KIT", "Radiator Bracket & Fixing Kit", VALVES, 6.5, 5200, {CNC: 0.006, PACK: 0.010}),
    ("CTL-STH-01", "Smart TRV Head", SMART, 44.0, 2200, {ASSEMBLY: 0.17}),
    ("CTL-STH-04", "Smart TRV Head Four-pack", SMART, 159.0, 450, {ASSEMBLY: 0.55}),
    ("CTL-WRT-01", "Wireless Room Thermostat", SMART, 58.0, 1500, {ASSEMBLY: 0.21}),
    ("CTL-PRT-01", "Programmable Room Thermostat", SMART, 36.0, 1200, {ASSEMBLY: 0.16}),
    ("CTL-HUB-01", "Smart Heating Hub", SMART, 79.0, 650, {ASSEMBLY: 0.30}),
    ("CTL-BRX-01", "Boiler Receiver Unit", SMART, 32.0, 900, {ASSEMBLY: 0.14}),
    ("CTL-HPC-01", "Heat Pump Smart Controller", SMART, 149.0, 180, {ASSEMBLY: 0.48}),
    ("CTL-SEN-01", "Wireless Temperature Sensor", SMART, 19.0, 1400, {ASSEMBLY: 0.07}),
]
# fmt: on

LABOUR_SCALE = 1.35  # the routing hours above, at the standard times of 2026

# Story 7, products that start and stop. A launch: (sku, name, family, price, routing, launch
# month, like sku); it has no history, and sales forecast it from its launch like its like sku.
LAUNCHES = [
    ("CTL-WRT-02", "Wireless Room Thermostat Gen 2", SMART, 58.0, {ASSEMBLY: 0.21}, "2027-03",
     "CTL-WRT-01"),
]  # fmt: skip
# Ends: sku -> end month. The current thermostat runs down to its successor's launch; the
# anthracite towel rail is discontinued after a last-time buy larger than its remaining orders.
# (An end later in the horizon pre-buys more months of demand, and the cash that stock releases
# would move the cash story's low point to the first month.)
ENDS = {"CTL-WRT-01": "2027-02", "TWR-ST-1250A": "2026-12"}
LAST_TIME_BUY = {"TWR-ST-1250A": 1.6}  # on hand = this × its demand up to the end
LIFECYCLE_SEED = SEED + 21  # its own generator: the other tables' random draws stay as they were

# Cash items: (month, item, amount), negative = out.
CAPEX_MONTHS = ["2027-01", "2027-04", "2027-07", "2027-10", "2028-01", "2028-04"]
CORP_TAX = {"2027-01": -260000.0, "2027-04": -260000.0, "2027-07": -270000.0,
            "2027-10": -270000.0, "2028-01": -280000.0, "2028-04": -280000.0}  # fmt: skip


# --------------------------------------------------------------------------------------
# month helpers (the generator stays independent of sop_core)


def add_months(month: str, n: int) -> str:
    i = int(month[:4]) * 12 + int(month[5:7]) - 1 + n
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def month_range(start: str, n: int) -> list[str]:
    return [add_months(start, k) for k in range(n)]


def month_diff(a: str, b: str) -> int:
    return (int(a[:4]) * 12 + int(a[5:7])) - (int(b[:4]) * 12 + int(b[5:7]))


ALL_MONTHS = month_range(FIRST_ACTUAL, N_ACTUALS + HORIZON)  # 2023-11 ... 2028-04
ACTUAL_MONTHS = ALL_MONTHS[:N_ACTUALS]
PLAN_MONTHS = ALL_MONTHS[N_ACTUALS:]
assert PLAN_MONTHS[0] == PLAN_START and len(PLAN_MONTHS) == HORIZON
H2_MONTHS = PLAN_MONTHS[HORIZON // 2 :]  # 2027-08 ... 2028-04


# --------------------------------------------------------------------------------------
# the generator


def _products() -> pd.DataFrame:
    rows = []
    for sku, name, fam, price, _base, _route in SKUS:
        f = FAMILY[fam]
        rows.append(
            dict(
                sku=sku,
                name=name,
                family=fam,
                unit_price=price,
                unit_material_cost=round(price * f["material"], 2),
                unit_variable_cost=round(price * f["variable"], 2),
                target_cover_days=float(f["cover"]),
                end_month=ENDS.get(sku),
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS["products"])


def _expected(rng: np.random.Generator) -> np.ndarray:
    """Expected demand ``(months, skus)`` over actuals and horizon: trend x season x mix drift."""
    t = np.arange(len(ALL_MONTHS)) / 12.0
    cal = np.array([int(m[5:7]) - 1 for m in ALL_MONTHS])
    out = np.empty((len(ALL_MONTHS), len(SKUS)))
    for j, (_sku, _name, fam, _price, base, _route) in enumerate(SKUS):
        f = FAMILY[fam]
        season = np.array(f["season"])
        season = season / season.mean()
        drift = rng.normal(0.0, 0.02)  # each sku grows a little faster or slower than its family
        out[:, j] = base * (1.0 + f["growth"] + drift) ** t * season[cal]
    return out


def _forecast_units(expected, bias, sd, rng) -> np.ndarray:
    return np.maximum(0.0, np.round(expected * (1.0 + bias) * np.exp(rng.normal(0.0, sd))))


def _forecasts(expected: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    fams = [s[2] for s in SKUS]
    skus = [s[0] for s in SKUS]
    sources = ("sales", "marketing", "consensus")
    cycles = [(c, PAST_CYCLE_MONTHS) for c in PAST_CYCLES] + [(PLAN_START, HORIZON)]
    for cycle, n in cycles:
        for month in month_range(cycle, n):
            t = ALL_MONTHS.index(month)
            lag = month_diff(month, cycle) + 1
            for j, sku in enumerate(skus):
                f = FAMILY[fams[j]]
                for source in sources:
                    if cycle == PLAN_START and source == "consensus" and lag > CONSENSUS_MONTHS:
                        continue
                    bias = f[f"{source}_bias"]
                    sd = {"sales": 0.06, "marketing": 0.10, "consensus": 0.05}[source]
                    sd = sd * (1.0 + 0.04 * (lag - 1))
                    units = _forecast_units(expected[t, j], bias, sd, rng)
                    rows.append((cycle, month, sku, source, units))
    return pd.DataFrame(rows, columns=COLUMNS["forecasts"])


def _demand_plan(forecasts: pd.DataFrame) -> pd.DataFrame:
    """D(month, sku) of the current cycle: consensus where given, else sales."""
    cur = forecasts[forecasts["cycle"] == forecasts["cycle"].max()]
    wide = cur.pivot_table(index=["month", "sku"], columns="source", values="units", aggfunc="sum")
    d = wide["consensus"].where(wide["consensus"].notna(), wide["sales"])
    return d.unstack("sku")


def _round_half(x: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(x) * 2.0) / 2.0


def build(out_dir: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Build every demo table; write ``TABLE.csv`` files to ``out_dir`` when given."""
    rng = np.random.default_rng(SEED)
    products = _products()
    expected = _expected(rng)
    skus = products["sku"].tolist()

    # actuals: expected x noise (sku-month), with a family-wide shock per month
    n_act = len(ACTUAL_MONTHS)
    fam_idx = {f: i for i, f in enumerate(FAMILIES)}
    sku_fam = np.array([fam_idx[s[2]] for s in SKUS])
    fam_shock = rng.normal(0.0, 0.03, size=(n_act, len(FAMILIES)))[:, sku_fam]
    sd = np.array([FAMILY[s[2]]["noise"] for s in SKUS])
    noise = rng.normal(0.0, 1.0, size=(n_act, len(SKUS))) * sd[None, :] + fam_shock
    act_units = np.round(expected[:n_act] * np.exp(noise - 0.5 * sd[None, :] ** 2))
    actuals = pd.DataFrame(
        [
            (m, sku, float(act_units[i, j]))
            for i, m in enumerate(ACTUAL_MONTHS)
            for j, sku in enumerate(skus)
        ],
        columns=COLUMNS["actuals"],
    )

    forecasts = _forecasts(expected, rng)

    # inventory at the start of the plan: about the target cover of the first month
    demand = _demand_plan(forecasts).reindex(index=PLAN_MONTHS, columns=skus)
    cover = products.set_index("sku")["target_cover_days"].reindex(skus).to_numpy()
    on_hand = np.round(demand.iloc[0].to_numpy() * cover / DAYS * rng.uniform(0.9, 1.15, len(skus)))
    inventory = pd.DataFrame({"sku": skus, "on_hand_units": on_hand})

    resources = pd.DataFrame(
        [(r, site, hpf, cpf) for r, (site, hpf, cpf) in RESOURCES.items()],
        columns=COLUMNS["resources"],
    )
    routings = pd.DataFrame(
        [(s[0], r, round(h * LABOUR_SCALE, 4)) for s in SKUS for r, h in s[5].items()],
        columns=COLUMNS["routings"],
    )

    supply_limits = _supply_limits(demand)
    products, forecasts, inventory, routings = _lifecycle(
        products, forecasts, inventory, routings, expected, demand
    )

    tables = dict(
        products=products,
        actuals=actuals,
        forecasts=forecasts,
        inventory=inventory,
        resources=resources,
        routings=routings,
        supply_limits=supply_limits,
    )
    headcount, capacity = _labour_and_capacity(tables, rng)
    tables["headcount"] = headcount
    tables["capacity"] = capacity
    tables["budget"] = _budget(tables, rng)
    tables["cash_items"], tables["settings"] = _cash_and_settings(tables)
    history = _history(tables)
    tables = {name: tables[name] for name in COLUMNS}
    if out_dir is not None:
        write_tables(tables, out_dir)
        write_history(history, Path(out_dir) / "history")
    return tables


def _lifecycle(products, forecasts, inventory, routings, expected, demand):
    """Story 7: the launches (product, forecasts from the launch month, no stock, routing) and
    the ends (the current cycle forecasts nothing after the end; a last-time buy on hand)."""
    rng = np.random.default_rng(LIFECYCLE_SEED)
    skus = [s[0] for s in SKUS]
    current = forecasts["cycle"] == PLAN_START
    after_end = np.zeros(len(forecasts), dtype=bool)
    for sku, end in ENDS.items():
        after_end |= current & (forecasts["sku"] == sku) & (forecasts["month"] > end)
    forecasts = forecasts[~after_end]
    new_products, new_forecasts, new_stock, new_routes = [], [], [], []
    for sku, name, fam, price, route, launch, like in LAUNCHES:
        f = FAMILY[fam]
        new_products.append(
            dict(
                sku=sku,
                name=name,
                family=fam,
                unit_price=price,
                unit_material_cost=round(price * f["material"], 2),
                unit_variable_cost=round(price * f["variable"], 2),
                target_cover_days=float(f["cover"]),
                launch_month=launch,
                like_sku=like,
            )
        )
        j = skus.index(like)
        for month in month_range(launch, month_diff(PLAN_MONTHS[-1], launch) + 1):
            t = ALL_MONTHS.index(month)
            lag = month_diff(month, PLAN_START) + 1
            for source in ("sales", "marketing", "consensus"):
                if source == "consensus" and lag > CONSENSUS_MONTHS:
                    continue
                sd = {"sales": 0.06, "marketing": 0.10, "consensus": 0.05}[source]
                sd = sd * (1.0 + 0.04 * (lag - 1))
                units = _forecast_units(expected[t, j], f[f"{source}_bias"], sd, rng)
                new_forecasts.append((PLAN_START, month, sku, source, units))
        new_stock.append((sku, 0.0))
        new_routes += [(sku, r, round(h * LABOUR_SCALE, 4)) for r, h in route.items()]
    for sku, share in LAST_TIME_BUY.items():
        left = float(demand.loc[: ENDS[sku], sku].sum())
        inventory.loc[inventory["sku"] == sku, "on_hand_units"] = float(round(left * share))
    products = pd.concat(
        [products, pd.DataFrame(new_products, columns=COLUMNS["products"])], ignore_index=True
    )
    forecasts = pd.concat(
        [forecasts, pd.DataFrame(new_forecasts, columns=COLUMNS["forecasts"])], ignore_index=True
    )
    inventory = pd.concat(
        [inventory, pd.DataFrame(new_stock, columns=COLUMNS["inventory"])], ignore_index=True
    )
    routings = pd.concat(
        [routings, pd.DataFrame(new_routes, columns=COLUMNS["routings"])], ignore_index=True
    )
    return products, forecasts.reset_index(drop=True), inventory, routings


def _supply_limits(demand: pd.DataFrame) -> pd.DataFrame:
    """The heat pump controller's chip supplier caps deliveries in the first half of 2027."""
    rows = []
    for m in month_range("2027-01", 6):
        want = float(demand.loc[m, "CTL-HPC-01"])
        rows.append((m, "CTL-HPC-01", float(round(want * 0.85))))
    for m in month_range("2026-11", 4):
        rows.append((m, "VLV-ZN-22", 2400.0))  # actuator supplier allocation, not binding
    return pd.DataFrame(rows, columns=COLUMNS["supply_limits"])


# Utilisation each healthy resource's recruitment plan aims at (temps flex with the season).
TARGET_UTIL = {COAT: 0.86, PACK: 0.84, CNC: 0.86, ASSEMBLY: 0.87}


def _labour_and_capacity(tables, rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Planned FTE and available hours per resource-month.

    Healthy resources are staffed month by month for their load at 84-87 % (agency temps in
    the season). Press & Weld's recruitment plan caps the 2027/28 season at last winter's crew
    less six leavers, although demand has grown: its machines (two-shift presses, 25 % more
    hours than the crew can work) could do the work, its people cannot.
    """
    unlimited = reference_plan(tables, unlimited=True)
    load = unlimited["resource"].pivot(index="month", columns="resource", values="load_hours")
    plans: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    hpf = RESOURCES[PRESS][1]
    planned = _press_plan(load[PRESS].to_numpy() / hpf)
    avail = np.maximum(planned * hpf * 1.25, load[PRESS].to_numpy() * 1.02)
    plans[PRESS] = (planned, avail)
    # the other resources see the load of the press-constrained plan (restocking included)
    press_only = dict(
        tables,
        headcount=_frame(plans, 0, "headcount", "planned_fte"),
        capacity=_frame(plans, 1, "capacity", "available_hours"),
    )
    constrained = reference_plan(press_only)
    load = constrained["resource"].pivot(index="month", columns="resource", values="load_hours")
    for r, (_site, hpf, _cpf) in RESOURCES.items():
        if r == PRESS:
            continue
        need = load[r].to_numpy() / hpf
        # temps flex with the season: staffed for each month's load at the target
        planned = np.ceil(need / TARGET_UTIL[r] * rng.uniform(1.0, 1.03, len(need)) * 2.0) / 2.0
        avail = np.full_like(need, (planned * hpf).max() * 1.08)
        plans[r] = (planned, avail)
    for r, (planned, avail) in plans.items():
        hpf = RESOURCES[r][1]
        avail = np.round(avail * _working_days(PLAN_MONTHS))
        plans[r] = (planned, np.maximum(avail, np.ceil(planned * hpf * 1.02)))
    plans = {r: plans[r] for r in RESOURCES}
    return (
        _frame(plans, 0, "headcount", "planned_fte"),
        _frame(plans, 1, "capacity", "available_hours"),
    )


def _frame(plans, k: int, table: str, column: str) -> pd.DataFrame:
    rows = [(m, r, float(v[k][i])) for r, v in plans.items() for i, m in enumerate(PLAN_MONTHS)]
    return pd.DataFrame(rows, columns=COLUMNS[table])


def _working_days(months: list[str]) -> np.ndarray:
    """Machine hours follow working days: Christmas and August shutdown weeks."""
    factor = {"12": 0.86, "08": 0.93, "04": 0.96}
    return np.array([factor.get(m[5:7], 1.0) for m in months])


PRESS_UTIL = 0.88  # outside the winters Press & Weld is staffed like the other resources
PRESS_FREEZE = 6.0  # welders leaving in 2027 whom the budget's hiring freeze does not replace


def _press_plan(need: np.ndarray) -> np.ndarray:
    """Press & Weld: staffed month by month, but the 2027/28 season is capped at last winter's
    crew less the leavers the hiring freeze does not replace."""
    planned = need / PRESS_UTIL
    planned[:4] = need[:4] / 0.95  # 2026-11 ... 2027-02: a tight winter, just about coped
    frozen = _round_half(planned[:4]).max() - PRESS_FREEZE
    season = slice(10, 16)  # 2027-09 ... 2028-02
    planned[season] = np.minimum(planned[season], frozen)
    return _round_half(planned)


def _budget(tables, rng) -> pd.DataFrame:
    """Finance's story: the plan as if every unit of demand shipped, plus an H2 growth ambition."""
    unlimited = reference_plan(tables, unlimited=True)
    fam = unlimited["family"].set_index(["month", "family"])
    rows = []
    for m in PLAN_MONTHS:
        for f in FAMILIES:
            x = fam.loc[(m, f)]
            k = 1.0 + rng.normal(0.0, 0.012)
            if m in H2_MONTHS and f in (RADIATORS, TOWEL_RAILS):
                k += 0.03  # "the new press pays back": budget growth the crew cannot deliver
            rows.append(
                (
                    m,
                    f,
                    round(float(x["revenue"]) * k, 2),
                    round(float(x["gross_margin"]) * k, 2),
                    round(float(x["inventory_value"]) * (1.0 + rng.normal(0.0, 0.015)), 2),
                    round(float(x["fte"]), 1),
                )
            )
    return pd.DataFrame(rows, columns=COLUMNS["budget"])


MINIMUM_CASH = 750000.0
DSO, DPO = 52.0, 45.0
FIXED_COSTS = 780000.0


def _cash_and_settings(tables) -> tuple[pd.DataFrame, pd.DataFrame]:
    items = []
    for m in CAPEX_MONTHS:
        items.append((m, "Capex - press line upgrade", -185000.0))
    for m, amount in CORP_TAX.items():
        items.append((m, "Corporation tax instalment", amount))
    for m in PLAN_MONTHS:
        items.append((m, "Loan repayment", -42000.0))
    items.append(("2027-09", "Capex - tube bending cell", -320000.0))
    items.append(("2027-03", "Dividend", -250000.0))
    cash_items = pd.DataFrame(items, columns=COLUMNS["cash_items"])
    cash_items = cash_items.sort_values(["month", "item"], kind="stable").reset_index(drop=True)

    # opening working capital consistent with the last actual month
    products = tables["products"].set_index("sku")
    last = tables["actuals"][tables["actuals"]["month"] == ACTUAL_MONTHS[-1]].set_index("sku")
    units = last["units"].reindex(products.index).fillna(0.0)
    oct_revenue = float((units * products["unit_price"]).sum())
    oct_material = float((units * products["unit_material_cost"]).sum())
    settings = {
        "company_name": COMPANY,
        "currency": "GBP",
        "plan_start": PLAN_START,
        "horizon_months": str(HORIZON),
        "opening_cash": "0",
        "opening_receivables": f"{round(oct_revenue * DSO / DAYS, -3):.0f}",
        "opening_payables": f"{round(oct_material * DPO / DAYS, -3):.0f}",
        "dso_days": f"{DSO:g}",
        "dpo_days": f"{DPO:g}",
        "fixed_costs_per_month": f"{FIXED_COSTS:.0f}",
        "minimum_cash": f"{MINIMUM_CASH:.0f}",
        "tolerance_pct": "5",
        "allocation": "pro_rata",
    }
    frame = pd.DataFrame(list(settings.items()), columns=COLUMNS["settings"])
    # opening cash: the autumn 2027 low point lands about £140k under the minimum
    trial = dict(tables, cash_items=cash_items, settings=frame)
    cash = reference_plan(trial)["company"]["closing_cash"].to_numpy()
    opening = round(MINIMUM_CASH - 140000.0 - cash.min(), -4)
    settings["opening_cash"] = f"{opening:.0f}"
    frame = pd.DataFrame(list(settings.items()), columns=COLUMNS["settings"])
    return cash_items, frame


# --------------------------------------------------------------------------------------
# the last twelve months: what finance booked, and the three cycles locked before this one

HISTORY_SEED = SEED + 1  # its own stream: the tables above stay byte-identical
HISTORY_MONTHS = month_range("2025-11", 12)  # 2025-11 ... 2026-10: the financial actuals
LOCKED_CYCLES = ["2026-08", "2026-09", "2026-10"]
CEO = "Catherine Finch (CEO)"
REALISED_PRICE = 0.975  # what customers paid against list: volume rebates and promotions
DSO_DRIFT = {"2026-08": 58.0, "2026-09": 61.0, "2026-10": 63.0}  # a big customer pays later
HISTORY_UTIL = 0.85  # staffing of each month's production load, before the current plan
LOAN_REPAYMENT = -42000.0
HISTORY_TAX = {"2026-01": -240000.0, "2026-04": -240000.0, "2026-07": -250000.0,
               "2026-10": -250000.0}  # fmt: skip

# The decisions taken in the earlier cycles, with the effect each should have had (a measure,
# the figure, the month): judged against the financial actuals by the review (plan of record of
# the cycle, expected, actual). cycle, decision, owner, due, status, answers, note, measure,
# value, month.
HISTORY_DECISIONS = [
    (
        "2026-08",
        "Run down the summer valve stock: total inventory at or under £1.10m at the end of "
        "September",
        "Operations Director",
        "2026-09-30",
        "done",
        "Valves & Fittings stock above its 45-day cover after the summer",
        "Valve machining paused for a week in September",
        "inventory_value",
        1100000.0,
        "2026-09",
    ),
    (
        "2026-08",
        "Credit-control drive: bring receivables down to 45 days of sales (£5.4m) by the end of "
        "October",
        "Finance Director",
        "2026-10-31",
        "done",
        "Cash: the working-capital review of the integrated reconciliation",
        "Weekly chase of the twenty largest accounts",
        "receivables",
        5400000.0,
        "2026-10",
    ),
]
VALVE_RUN_DOWN = ("2026-09", 0.8)  # the first decision delivered: valve stock at 80 % of cover


def _history(tables: dict[str, pd.DataFrame]) -> dict:
    """The twelve months before the plan as finance booked them, and what the team knew in each of
    the three cycles locked before this one.

    Adds to ``tables``: ``financial_actuals`` (2025-11 ... 2026-10), and the history months of
    ``headcount``, ``capacity`` and ``cash_items`` (the crew each month's production needed, the
    loan and tax paid). Returns the files of ``history/``: each locked cycle's ``settings`` and
    ``inventory`` (the opening position then: October's closing figures are this plan's opening
    ones), ``cycles`` (who locked each, when) and ``decisions`` (with their expected effects).

    Revenue is the units shipped at list price times ``REALISED_PRICE`` (about 2.5 % of rebates);
    receivables sit at about 52 days until a large customer starts paying later in August
    (``DSO_DRIFT``: about 61 days over Aug–Oct 2026) while the plan still assumes 52.
    """
    rng = np.random.default_rng(HISTORY_SEED)
    products = tables["products"].set_index("sku")
    skus = products.index.tolist()
    price = products["unit_price"].to_numpy(dtype=float)
    mat = products["unit_material_cost"].to_numpy(dtype=float)
    cost = mat + products["unit_variable_cost"].to_numpy(dtype=float)
    cover = products["target_cover_days"].to_numpy(dtype=float)
    act = (  # a product launched after these months (no actuals) shipped nothing
        tables["actuals"]
        .pivot(index="month", columns="sku", values="units")
        .reindex(columns=skus)
        .fillna(0.0)
    )
    months = ["2025-10", *HISTORY_MONTHS]  # October 2025 opens the first month's cash flow
    nov = _demand_plan(tables["forecasts"]).reindex(columns=skus).loc[PLAN_START].to_numpy()
    units = {m: act.loc[m].to_numpy(dtype=float) for m in months}
    units[PLAN_START] = nov

    # stock at each month end: the cover target of the next month's shipments; October's is the
    # inventory the plan starts with
    on_hand = tables["inventory"].set_index("sku")["on_hand_units"].reindex(skus).to_numpy()
    valves = (products["family"] == VALVES).to_numpy()
    stock, planned_stock = {}, {}  # as it was; as the recruitment plan expected it
    for m in months:
        if m == ACTUAL_MONTHS[-1]:
            stock[m] = planned_stock[m] = on_hand.astype(float)
        else:
            nxt = units[add_months(m, 1)]
            planned_stock[m] = np.round(cover / DAYS * nxt * rng.normal(1.0, 0.03, len(skus)))
            stock[m] = planned_stock[m]
            if m == VALVE_RUN_DOWN[0]:
                stock[m] = np.where(valves, np.round(stock[m] * VALVE_RUN_DOWN[1]), stock[m])
    # production = shipments + the change in stock; the crew each month's load needs
    res = tables["resources"].set_index("resource")
    rnames = res.index.tolist()
    hpu = (
        tables["routings"]
        .pivot_table(index="sku", columns="resource", values="hours_per_unit", aggfunc="sum")
        .reindex(index=skus, columns=rnames)
        .fillna(0.0)
        .to_numpy()
    )
    hpf = res["hours_per_fte"].to_numpy(dtype=float)
    cpf = res["cost_per_fte"].to_numpy(dtype=float)
    hc_rows, cap_rows, labour = [], [], {}
    for m in HISTORY_MONTHS:
        produced = np.maximum(units[m] + planned_stock[m] - planned_stock[add_months(m, -1)], 0.0)
        need = produced @ hpu / hpf
        planned = np.ceil(need / HISTORY_UTIL * rng.uniform(1.0, 1.03, len(rnames)) * 2.0) / 2.0
        avail = np.round(planned * hpf * 1.2 * _working_days([m])[0])
        labour[m] = float(planned @ cpf)
        for k, r in enumerate(rnames):
            hc_rows.append((m, r, float(planned[k])))
            cap_rows.append((m, r, float(avail[k])))
    order = {r: k for k, r in enumerate(RESOURCES)}
    for name, rows in (("headcount", hc_rows), ("capacity", cap_rows)):
        past = pd.DataFrame(rows, columns=COLUMNS[name])
        rank = past["resource"].map(order)
        past = past.assign(_r=rank).sort_values(["month", "_r"], kind="stable").drop(columns="_r")
        tables[name] = pd.concat([past, tables[name]], ignore_index=True)
    items = [(m, "Loan repayment", LOAN_REPAYMENT) for m in HISTORY_MONTHS]
    items += [(m, "Corporation tax instalment", a) for m, a in HISTORY_TAX.items()]
    past_items = pd.DataFrame(items, columns=COLUMNS["cash_items"])
    past_items = past_items.sort_values(["month", "item"], kind="stable")
    tables["cash_items"] = pd.concat([past_items, tables["cash_items"]], ignore_index=True)

    # what finance booked
    settings = dict(zip(tables["settings"]["key"], tables["settings"]["value"], strict=True))
    dpo = float(settings["dpo_days"])
    fin = {}
    for m in months:
        dso = DSO_DRIFT.get(m, DSO + rng.normal(0.0, 0.8))
        listed = float(units[m] @ price)
        revenue = round(listed * rng.normal(REALISED_PRICE, 0.003))
        row = dict(
            revenue=float(revenue),
            receivables=float(round(revenue * dso / DAYS, -3)),
            payables=float(round(float(units[m] @ mat) * dpo / DAYS, -3)),
            inventory_value=float(round(float(stock[m] @ cost))),
        )
        if m in labour:
            cogs = float(units[m] @ cost) * rng.normal(1.0, 0.006)
            row["gross_margin"] = float(round(revenue - cogs - labour[m]))
            fixed = FIXED_COSTS * rng.normal(1.0, 0.015)
            row["operating_profit"] = float(round(row["gross_margin"] - fixed))
        fin[m] = row
    closing = float(settings["opening_cash"])  # October's closing cash opens the plan
    for m in reversed(HISTORY_MONTHS):
        fin[m]["closing_cash"] = closing
        before = fin[add_months(m, -1)]
        items_m = sum(a for mm, _i, a in items if mm == m)
        flow = (
            fin[m]["operating_profit"]
            - (fin[m]["receivables"] - before["receivables"])
            - (fin[m]["inventory_value"] - before["inventory_value"])
            + (fin[m]["payables"] - before["payables"])
            + items_m
        )
        closing = round(closing - flow)
    tables["financial_actuals"] = pd.DataFrame(
        [{"month": m, **fin[m]} for m in HISTORY_MONTHS], columns=COLUMNS["financial_actuals"]
    )

    # each locked cycle as it stood: its opening position is the month before it
    files: dict[str, pd.DataFrame] = {}
    for cycle in LOCKED_CYCLES:
        before = add_months(cycle, -1)
        own = dict(settings)
        own.update(
            plan_start=cycle,
            opening_cash=f"{fin[before]['closing_cash']:.0f}",
            opening_receivables=f"{fin[before]['receivables']:.0f}",
            opening_payables=f"{fin[before]['payables']:.0f}",
        )
        files[f"{cycle}/settings"] = pd.DataFrame(list(own.items()), columns=COLUMNS["settings"])
        files[f"{cycle}/inventory"] = pd.DataFrame(
            {"sku": skus, "on_hand_units": stock[before]}, columns=COLUMNS["inventory"]
        )
    files["cycles"] = pd.DataFrame(
        [(c, CEO, f"{_last_friday(c)} 16:00:00") for c in LOCKED_CYCLES],
        columns=["cycle", "locked_by", "locked_at"],
    )
    files["decisions"] = pd.DataFrame(
        HISTORY_DECISIONS,
        columns=[
            "cycle",
            "decision",
            "owner",
            "due",
            "status",
            "answers",
            "note",
            "expected_measure",
            "expected_value",
            "expected_month",
        ],
    )
    return files


def _last_friday(cycle: str) -> str:
    """The executive meeting: the fourth Friday of the cycle month (docs/RHYTHM.md)."""
    import datetime as dt

    first = dt.date(int(cycle[:4]), int(cycle[5:7]), 1)
    friday = first + dt.timedelta(days=(4 - first.weekday()) % 7)
    return (friday + dt.timedelta(weeks=3)).isoformat()


def write_history(files: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """Write ``history/`` (each locked cycle's settings and inventory, cycles, decisions)."""
    paths = []
    for name, frame in files.items():
        path = folder / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [",".join(frame.columns)]
        for row in frame.itertuples(index=False, name=None):
            lines.append(",".join(_csv_cell(_fmt(v)) for v in row))
        path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------
# writing


def _fmt(value) -> str:
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return ""  # an optional cell left blank
    v = float(value)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.6f}".rstrip("0").rstrip(".")


def _csv_cell(text: str) -> str:
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_tables(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write each table as ``TABLE.csv``: UTF-8, comma, dot decimal, ``\\n`` line ends."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        cols = COLUMNS[name]
        lines = [",".join(cols)]
        for row in frame[cols].itertuples(index=False, name=None):
            lines.append(",".join(_csv_cell(_fmt(v)) for v in row))
        path = out / f"{name}.csv"
        path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
        paths.append(path)
    return paths


def read_tables(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Read ``TABLE.csv`` files back (text columns as text, numbers as float)."""
    text_cols = {"sku", "name", "family", "source", "resource", "site", "item", "key", "value"}
    text_cols |= {"like_sku", "launch_month", "end_month"}
    tables = {}
    for name, cols in COLUMNS.items():
        path = Path(folder) / f"{name}.csv"
        if path.exists():
            dtype = {c: str for c in cols if c in text_cols or c in ("month", "cycle")}
            tables[name] = pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""])
    return tables


# --------------------------------------------------------------------------------------
# the check: the reference method of PRODUCT.md, kept small and independent of sop_core


def reference_plan(tables: dict[str, pd.DataFrame], *, unlimited: bool = False) -> dict:
    """Demand -> supply -> finance for the demo tables, as PRODUCT.md writes it.

    D = current-cycle consensus, else sales (the demo has both for every horizon month).
    ``unlimited=True`` plans with unlimited capacity (used to size the recruitment plan and the
    budget).

    Returns frames ``sku`` (month, sku, family, demand, req, production, shipped, unmet,
    end_inventory), ``resource`` (month, resource, load_hours, capacity_hours, available_hours,
    staffed_hours, utilisation, fte_needed, fte_planned), ``family`` (month, family, revenue,
    variable_cogs, gross_margin, inventory_value, fte, unmet_units, demand_units) and ``company``.
    """
    products = tables["products"].set_index("sku")
    skus = products.index.tolist()
    months = PLAN_MONTHS
    n_m, n_s = len(months), len(skus)
    demand = _demand_plan(tables["forecasts"]).reindex(index=months, columns=skus).fillna(0.0)
    d = demand.to_numpy(dtype=float, copy=True)
    # the product lifecycle: no demand before launch_month or after end_month
    for j, (launch, end) in enumerate(
        zip(products["launch_month"], products["end_month"], strict=True)
    ):
        for k, month in enumerate(months):
            if (isinstance(launch, str) and month < launch) or (
                isinstance(end, str) and month > end
            ):
                d[k, j] = 0.0
    cover = products["target_cover_days"].to_numpy(dtype=float)
    price = products["unit_price"].to_numpy(dtype=float)
    mat = products["unit_material_cost"].to_numpy(dtype=float)
    var = products["unit_variable_cost"].to_numpy(dtype=float)
    inv0 = (
        tables["inventory"].set_index("sku")["on_hand_units"].reindex(skus).fillna(0.0).to_numpy()
    )

    res = tables["resources"].set_index("resource")
    rnames = res.index.tolist()
    hpf = res["hours_per_fte"].to_numpy(dtype=float)
    cpf = res["cost_per_fte"].to_numpy(dtype=float)
    hpu = (
        tables["routings"]
        .pivot_table(index="sku", columns="resource", values="hours_per_unit", aggfunc="sum")
        .reindex(index=skus, columns=rnames)
        .fillna(0.0)
        .to_numpy()
    )

    def grid(name, col):
        t = tables.get(name)
        if t is None or t.empty:
            return np.full((n_m, len(rnames)), np.nan)
        return (
            t.pivot(index="month", columns="resource", values=col)
            .reindex(index=months, columns=rnames)
            .to_numpy(dtype=float)
        )

    avail = grid("capacity", "available_hours")
    planned = grid("headcount", "planned_fte")
    staffed = planned * hpf[None, :]
    if unlimited:
        cap = np.full((n_m, len(rnames)), np.inf)
    else:
        cap = np.fmin(avail, staffed)
        cap = np.where(np.isnan(cap), np.inf, cap)

    limits = np.full((n_m, n_s), np.inf)
    sl = tables.get("supply_limits")
    if sl is not None and not sl.empty:
        for m, s, u in sl[["month", "sku", "max_units"]].itertuples(index=False):
            if m in months and s in skus:
                limits[months.index(m), skus.index(s)] = u

    req = np.zeros((n_m, n_s))
    prod = np.zeros((n_m, n_s))
    ship = np.zeros((n_m, n_s))
    end = np.zeros((n_m, n_s))
    load = np.zeros((n_m, len(rnames)))
    inv = inv0.astype(float).copy()
    # the last month's target covers its own demand, except for a product ending in it
    ends_last = (products["end_month"] == months[-1]).to_numpy()
    for i in range(n_m):
        nxt = d[i + 1] if i + 1 < n_m else np.where(ends_last, 0.0, d[i])
        target = cover / DAYS * nxt
        req[i] = np.maximum(0.0, d[i] + target - inv)
        load[i] = req[i] @ hpu
        scale = np.ones(n_s)
        for k in range(len(rnames)):
            if load[i, k] > cap[i, k]:
                ratio = cap[i, k] / load[i, k]
                scale = np.where(hpu[:, k] > 0, np.minimum(scale, ratio), scale)
        prod[i] = np.minimum(req[i] * scale, limits[i])
        ship[i] = np.minimum(d[i], inv + prod[i])
        inv = inv + prod[i] - ship[i]
        end[i] = inv
    unmet = d - ship

    revenue_s = ship * price
    cogs_s = ship * (mat + var)
    invval_s = end * (mat + var)
    labour_r = np.nan_to_num(planned * cpf[None, :])
    # labour to skus by load share (for family margins and the budget's FTE split)
    per_hour = np.divide(labour_r, load, out=np.zeros_like(labour_r), where=load > 0)
    labour_s = req * (per_hour @ hpu.T)
    fte_per_hour = np.divide(np.nan_to_num(planned), load, out=np.zeros_like(load), where=load > 0)
    fte_s = req * (fte_per_hour @ hpu.T)

    fam = products["family"].to_numpy()
    sku_rows = []
    for i, m in enumerate(months):
        for j, s in enumerate(skus):
            sku_rows.append(
                (m, s, fam[j], d[i, j], req[i, j], prod[i, j], ship[i, j], unmet[i, j], end[i, j])
            )
    sku_frame = pd.DataFrame(
        sku_rows,
        columns=[
            "month", "sku", "family", "demand", "req", "production", "shipped", "unmet",
            "end_inventory",
        ],
    )  # fmt: skip

    fam_rows = []
    for f in sorted(set(fam)):
        mask = fam == f
        for i, m in enumerate(months):
            rev = revenue_s[i, mask].sum()
            fam_rows.append(
                dict(
                    month=m,
                    family=f,
                    demand_units=d[i, mask].sum(),
                    unmet_units=unmet[i, mask].sum(),
                    revenue=rev,
                    lost_revenue=(unmet[i, mask] * price[mask]).sum(),
                    variable_cogs=cogs_s[i, mask].sum(),
                    gross_margin=rev - cogs_s[i, mask].sum() - labour_s[i, mask].sum(),
                    inventory_value=invval_s[i, mask].sum(),
                    fte=fte_s[i, mask].sum(),
                )
            )
    fam_frame = pd.DataFrame(fam_rows)

    res_rows = []
    for i, m in enumerate(months):
        for k, r in enumerate(rnames):
            c = cap[i, k]
            res_rows.append(
                dict(
                    month=m,
                    resource=r,
                    load_hours=load[i, k],
                    capacity_hours=c,
                    available_hours=avail[i, k],
                    staffed_hours=staffed[i, k],
                    utilisation=load[i, k] / c if np.isfinite(c) and c > 0 else np.nan,
                    fte_needed=load[i, k] / hpf[k],
                    fte_planned=planned[i, k],
                )
            )
    res_frame = pd.DataFrame(res_rows)

    # finance
    settings = {}
    if "settings" in tables:
        settings = dict(zip(tables["settings"]["key"], tables["settings"]["value"], strict=True))

    def num(key):
        return float(settings.get(key, 0) or 0)

    revenue = revenue_s.sum(axis=1)
    cogs = cogs_s.sum(axis=1)
    labour = labour_r.sum(axis=1)
    gm = revenue - cogs - labour
    fixed = num("fixed_costs_per_month")
    op = gm - fixed
    invval = invval_s.sum(axis=1)
    recv = revenue * num("dso_days") / DAYS
    pay = (prod @ mat) * num("dpo_days") / DAYS
    items = np.zeros(n_m)
    ci = tables.get("cash_items")
    if ci is not None and not ci.empty:
        for m, a in ci[["month", "amount"]].itertuples(index=False):
            if m in months:
                items[months.index(m)] += a
    inv0_val = float(inv0 @ (mat + var))
    d_recv = np.diff(recv, prepend=num("opening_receivables"))
    d_inv = np.diff(invval, prepend=inv0_val)
    d_pay = np.diff(pay, prepend=num("opening_payables"))
    flow = op - d_recv - d_inv + d_pay + items
    closing = num("opening_cash") + np.cumsum(flow)
    company = pd.DataFrame(
        dict(
            month=months,
            revenue=revenue,
            variable_cogs=cogs,
            labour_cost=labour,
            gross_margin=gm,
            fixed_costs=fixed,
            operating_profit=op,
            inventory_value=invval,
            receivables=recv,
            payables=pay,
            cash_items=items,
            cash_flow=flow,
            closing_cash=closing,
        )
    )
    return dict(sku=sku_frame, family=fam_frame, resource=res_frame, company=company)


def track_bias(tables: dict[str, pd.DataFrame], source: str = "sales", max_lag: int = 3):
    """Past cycles' bias % per family (lags 1..max_lag): sum(forecast - actual) / sum(actual)."""
    fc = tables["forecasts"]
    cur = fc["cycle"].max()
    fc = fc[(fc["source"] == source) & (fc["cycle"] < cur)].copy()
    fc["lag"] = [month_diff(m, c) + 1 for m, c in zip(fc["month"], fc["cycle"], strict=True)]
    fc = fc[(fc["lag"] >= 1) & (fc["lag"] <= max_lag)]
    both = fc.merge(tables["actuals"], on=["month", "sku"], suffixes=("_fc", "_act"))
    fam = tables["products"].set_index("sku")["family"]
    both["family"] = both["sku"].map(fam)
    g = both.groupby("family")[["units_fc", "units_act"]].sum()
    return (g["units_fc"] - g["units_act"]) / g["units_act"] * 100.0


def trend_gap(tables: dict[str, pd.DataFrame], source: str = "sales") -> pd.Series:
    """Current cycle's forecast vs a seasonal trend of the actuals, % per family (horizon sums).

    The trend: last 12 months of actuals x (last 12 / previous 12) growth, per month of year.
    """
    act = tables["actuals"].merge(tables["products"][["sku", "family"]], on="sku")
    by = act.groupby(["family", "month"])["units"].sum().unstack("month")
    last12 = by[ACTUAL_MONTHS[-12:]].to_numpy()
    prev12 = by[ACTUAL_MONTHS[-24:-12]].to_numpy()
    growth = last12.sum(axis=1) / prev12.sum(axis=1)
    stat = {}
    for k, f in enumerate(by.index):
        total = 0.0
        for m in PLAN_MONTHS:
            years = (month_diff(m, ACTUAL_MONTHS[-12]) // 12) or 1
            same = ACTUAL_MONTHS[-12:][(month_diff(m, ACTUAL_MONTHS[-12])) % 12]
            total += by.loc[f, same] * growth[k] ** years
        stat[f] = total
    fc = tables["forecasts"]
    cur = fc[(fc["cycle"] == fc["cycle"].max()) & (fc["source"] == source)]
    cur = cur.merge(tables["products"][["sku", "family"]], on="sku")
    fsum = cur.groupby("family")["units"].sum()
    return pd.Series({f: (fsum[f] / stat[f] - 1.0) * 100.0 for f in stat})


def story_numbers(tables: dict[str, pd.DataFrame]) -> dict:
    """The six stories as numbers, from the reference check."""
    plan = reference_plan(tables)
    res = plan["resource"]
    fam = plan["family"]
    comp = plan["company"]
    bias = track_bias(tables)
    press = res[res["resource"] == OVERLOADED_RESOURCE].set_index("month")
    over = press[press["utilisation"] > 1.0]
    labour_short = res[
        (res["fte_needed"] > res["fte_planned"] * 1.05)
        & (res["staffed_hours"] < res["available_hours"])
    ]
    budget = tables["budget"]
    settings = dict(zip(tables["settings"]["key"], tables["settings"]["value"], strict=True))
    minimum = float(settings["minimum_cash"])
    others = res[res["resource"] != OVERLOADED_RESOURCE]
    fam_m = fam.merge(budget, on=["month", "family"], suffixes=("", "_budget"))
    fam_m["gap_pct"] = (fam_m["revenue"] / fam_m["revenue_budget"] - 1.0) * 100.0
    return dict(
        sales_bias_pct=bias.to_dict(),
        marketing_bias_pct=track_bias(tables, "marketing").to_dict(),
        sales_vs_trend_pct=trend_gap(tables).to_dict(),
        overload_months=over.index.tolist(),
        overload_utilisation=over["utilisation"].round(3).to_dict(),
        unmet_units_by_month=fam.groupby("month")["unmet_units"]
        .sum()
        .loc[lambda s: s > 0.5]
        .round(0)
        .to_dict(),
        lost_revenue=float(fam["lost_revenue"].sum()),
        labour_short=[
            (r.month, r.resource, round(r.fte_needed, 1), r.fte_planned)
            for r in labour_short.itertuples()
        ],
        budget_h2_revenue=float(budget[budget["month"].isin(H2_MONTHS)]["revenue"].sum()),
        plan_h2_revenue=float(comp[comp["month"].isin(H2_MONTHS)]["revenue"].sum()),
        cash_below_minimum={
            m: round(c)
            for m, c in zip(comp["month"], comp["closing_cash"], strict=True)
            if c < minimum
        },
        minimum_cash=minimum,
        min_cash=float(comp["closing_cash"].min()),
        other_util_range=(float(others["utilisation"].min()), float(others["utilisation"].max())),
        other_util_by_resource=others.groupby("resource")["utilisation"]
        .agg(["min", "max"])
        .round(3),
        family_gap_pct=fam_m.pivot(index="month", columns="family", values="gap_pct").round(1),
        gross_margin_pct=float(comp["gross_margin"].sum() / comp["revenue"].sum() * 100.0),
        operating_margin_pct=float(comp["operating_profit"].sum() / comp["revenue"].sum() * 100.0),
        annual_revenue=float(comp["revenue"].iloc[:12].sum()),
        company=comp,
        resource=res,
        plan=plan,
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else DEFAULT_OUT
    build(out)
    print(f"Wrote the demo company to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
