"""The data contract of PRODUCT.md as code: every importable table, its columns, keys and limits."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Column",
    "TableSpec",
    "TABLES",
    "TABLE_ORDER",
    "SETTINGS",
    "SettingSpec",
    "FORECAST_SOURCES",
    "LIFECYCLE_COLUMNS",
    "spec",
]

# Sources a user may import; "statistical" is computed, never imported.
FORECAST_SOURCES = ("sales", "marketing", "consensus")

# Bounds beyond which a figure is taken as a typing or unit error, not a plan.
MAX_UNITS = 1e9
MAX_UNIT_MONEY = 1e7
MAX_MONEY = 1e12
MAX_HOURS = 1e8
MAX_FTE = 1e6
MAX_DAYS = 3650


@dataclass(frozen=True)
class Column:
    """One column: its kind ('text', 'month', 'number'), bounds and whether it may be empty."""

    name: str
    kind: str
    required: bool = True
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    help: str = ""
    # a column the header must name whose cells may still be blank ("not known")
    blank_ok: bool = False

    @property
    def sql_type(self) -> str:
        return "DOUBLE" if self.kind == "number" else "VARCHAR"


@dataclass(frozen=True)
class TableSpec:
    """One importable table: columns in contract order, the key, what it references."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: dict[str, str] = field(default_factory=dict)  # column -> "table.column"
    rows_required: bool = True
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_names(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _n(name, lo=0.0, hi=None, required=True, help="", blank_ok=False):
    return Column(name, "number", required=required, min=lo, max=hi, help=help, blank_ok=blank_ok)


def _t(name, choices=None, required=True, help=""):
    return Column(name, "text", required=required, choices=choices, help=help)


def _m(name="month", required=True, help="YYYY-MM"):
    return Column(name, "month", required=required, help=help)


# The product lifecycle (PRODUCT.md "Product lifecycle"): optional columns of products.
LIFECYCLE_COLUMNS = ("launch_month", "end_month", "like_sku", "like_share")
MAX_LIKE_SHARE = 100.0


_TABLE_LIST = [
    TableSpec(
        "products",
        (
            _t("sku", help="unique product code"),
            _t("name"),
            _t("family"),
            _n("unit_price", hi=MAX_UNIT_MONEY),
            _n("unit_material_cost", hi=MAX_UNIT_MONEY),
            _n("unit_variable_cost", hi=MAX_UNIT_MONEY),
            _n("target_cover_days", hi=MAX_DAYS),
            _m("launch_month", required=False, help="first month with demand; blank = on sale"),
            _m("end_month", required=False, help="last month with demand; blank = no end"),
            _t(
                "like_sku",
                required=False,
                help="another sku of this file: a product without history takes its "
                "statistical baseline from launch_month on",
            ),
            _n(
                "like_share",
                hi=MAX_LIKE_SHARE,
                required=False,
                help="the like sku's baseline times this (blank = 1); only with like_sku",
            ),
        ),
        key=("sku",),
        description="The product list: price, unit costs, stock cover target, launch and end.",
    ),
    TableSpec(
        "actuals",
        (_m(), _t("sku"), _n("units", hi=MAX_UNITS)),
        key=("month", "sku"),
        references={"sku": "products.sku"},
        description="Units shipped per sku and month.",
    ),
    TableSpec(
        "forecasts",
        (
            _m("cycle", help="YYYY-MM, the month the forecast was made"),
            _m(),
            _t("sku"),
            _t("source", choices=FORECAST_SOURCES),
            _n("units", hi=MAX_UNITS),
        ),
        key=("cycle", "month", "sku", "source"),
        references={"sku": "products.sku"},
        description="Sales, marketing and consensus forecasts, per cycle.",
    ),
    TableSpec(
        "inventory",
        (_t("sku"), _n("on_hand_units", hi=MAX_UNITS)),
        key=("sku",),
        references={"sku": "products.sku"},
        description="Units on hand at the start of the plan.",
    ),
    TableSpec(
        "resources",
        (
            _t("resource"),
            _t("site"),
            _n("hours_per_fte", hi=744),
            _n("cost_per_fte", hi=MAX_UNIT_MONEY),
        ),
        key=("resource",),
        description="Lines, machines or teams: hours and cost per FTE per month.",
    ),
    TableSpec(
        "routings",
        (_t("sku"), _t("resource"), _n("hours_per_unit", hi=1e5)),
        key=("sku", "resource"),
        references={"sku": "products.sku", "resource": "resources.resource"},
        description="Hours each sku needs on each resource.",
    ),
    TableSpec(
        "capacity",
        (_m(), _t("resource"), _n("available_hours", hi=MAX_HOURS)),
        key=("month", "resource"),
        references={"resource": "resources.resource"},
        description="Line or machine hours available per month.",
    ),
    TableSpec(
        "headcount",
        (_m(), _t("resource"), _n("planned_fte", hi=MAX_FTE)),
        key=("month", "resource"),
        references={"resource": "resources.resource"},
        description="The recruitment plan: planned FTE per resource and month.",
    ),
    TableSpec(
        "supply_limits",
        (_m(), _t("sku"), _n("max_units", hi=MAX_UNITS)),
        key=("month", "sku"),
        references={"sku": "products.sku"},
        rows_required=False,
        description="Optional supplier or material limits on production.",
    ),
    TableSpec(
        "budget",
        (
            _m(),
            _t("family"),
            _n("revenue", lo=-MAX_MONEY, hi=MAX_MONEY),
            _n("gross_margin", lo=-MAX_MONEY, hi=MAX_MONEY),
            _n("closing_inventory_value", hi=MAX_MONEY, required=False),
            _n("headcount_fte", hi=MAX_FTE, required=False),
        ),
        key=("month", "family"),
        references={"family": "products.family"},
        description="Finance's story: the annual budget by month and family.",
    ),
    TableSpec(
        "cash_items",
        (_m(), _t("item"), _n("amount", lo=-MAX_MONEY, hi=MAX_MONEY)),
        key=("month", "item"),
        rows_required=False,
        description="Other cash flows (capex, loans); negative = out.",
    ),
    TableSpec(
        "financial_actuals",
        (
            _m(),
            _n("revenue", lo=-MAX_MONEY, hi=MAX_MONEY, blank_ok=True, help="blank = not known"),
            _n("gross_margin", lo=-MAX_MONEY, hi=MAX_MONEY, required=False),
            _n("operating_profit", lo=-MAX_MONEY, hi=MAX_MONEY, required=False),
            _n("closing_cash", lo=-MAX_MONEY, hi=MAX_MONEY, required=False),
            _n("receivables", hi=MAX_MONEY, required=False, help="needs the month's revenue"),
            _n("payables", hi=MAX_MONEY, required=False),
            _n("inventory_value", hi=MAX_MONEY, required=False),
        ),
        key=("month",),
        rows_required=False,
        description="What finance booked, month by month (blank = not known).",
    ),
    TableSpec(
        "settings",
        (_t("key"), Column("value", "text", help="see the settings list")),
        key=("key",),
        rows_required=False,
        description="Company settings: currency, plan start, cash and terms.",
    ),
]

TABLES: dict[str, TableSpec] = {t.name: t for t in _TABLE_LIST}
TABLE_ORDER: list[str] = [t.name for t in _TABLE_LIST]


def spec(table: str) -> TableSpec:
    """The spec of a contract table, or KeyError."""
    return TABLES[table]


@dataclass(frozen=True)
class SettingSpec:
    """One settings key: its kind ('text', 'month', 'int', 'number', 'choice'), default, bounds
    and (for a choice) the values it may take."""

    key: str
    kind: str
    default: object
    min: float | None = None
    max: float | None = None
    help: str = ""
    choices: tuple[str, ...] = ()


SETTINGS: dict[str, SettingSpec] = {
    s.key: s
    for s in [
        SettingSpec("company_name", "text", "", help="shown on the pages and the board pack"),
        SettingSpec("currency", "text", "GBP", help="ISO code, e.g. GBP, EUR, USD"),
        SettingSpec(
            "plan_start",
            "month",
            None,
            help="first plan month; default: month after the last actual",
        ),
        SettingSpec("horizon_months", "int", 18, 1, 60),
        SettingSpec("opening_cash", "number", 0.0, -MAX_MONEY, MAX_MONEY),
        SettingSpec("opening_receivables", "number", 0.0, 0, MAX_MONEY),
        SettingSpec("opening_payables", "number", 0.0, 0, MAX_MONEY),
        SettingSpec("dso_days", "number", 0.0, 0, 365),
        SettingSpec("dpo_days", "number", 0.0, 0, 365),
        SettingSpec("fixed_costs_per_month", "number", 0.0, 0, MAX_MONEY),
        SettingSpec("minimum_cash", "number", 0.0, -MAX_MONEY, MAX_MONEY),
        SettingSpec("tolerance_pct", "number", 5.0, 0, 100),
        SettingSpec(
            "allocation",
            "choice",
            "pro_rata",
            help="how short capacity is shared: pro_rata (in proportion) or margin (the most "
            "contribution per month)",
            choices=("pro_rata", "margin"),
        ),
    ]
}
