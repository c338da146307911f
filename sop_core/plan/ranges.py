"""Ranges through the plan: demand paths sampled per sku, planned by the same engine, P10/P50/P90 of revenue, margin, cash and unmet units.

The point plan stays the plan of record; the ranges say how far its figures may move when demand
moves as the forecasts have missed before (docs/METHOD.md §12):

- **Each sku-month's spread** (``demand_uncertainty``), on the demand before levers:
  a month the statistical baseline drives takes its 80 % band (``p10``, ``p90``) as the 10th and
  90th percentiles around the point, a split normal (each side's standard deviation is its half
  of the band / 1.2816), clipped at 0; a month a sales or consensus forecast drives takes that
  source's track record in the sku's family (``trackrecord.source_spread``): demand = forecast ×
  exp(mean + sd × z) of ``ln(actual / forecast)`` — an inflating source's months are likely
  lower than forecast, a sandbagging one's higher; a source month without a record takes the
  baseline band's relative width at that sku-month; with neither, the month is certain.
- **Correlated within a family** (``sample_demand``): ``z = √ρ × family shock + √(1 − ρ) × sku
  noise``, every term standard normal, so each sku-month keeps its own spread. The family shock
  is shared by the family's skus and carried from month to month (``shock(m) = φ × shock(m −
  1) + √(1 − φ²) × new``); the sku noise is new each month; families move independently.
  ``FAMILY_SHARE`` ρ = 0.5, ``PERSISTENCE`` φ = 0.8.
- **The same engine** (``plan_ranges``): the paths go through ``engine.compute`` with a leading
  sample axis, under the plan's levers (volume and elasticity apply to each path as to the point
  demand), in batches that bound memory (``memory_mb``). Each path is planned as the plan would
  be if that were the demand: production chases it to the cover target within capacity.
- Samples are seeded: sample ``k`` draws from its own generator (child ``k`` of
  ``SeedSequence(seed)``), so the same inputs and seed give the same figures whatever the batch
  size, and the first ``N`` of more samples are the same ``N`` paths.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from sop_core.errors import PlanError
from sop_core.plan.engine import compute
from sop_core.plan.levers import Levers
from sop_core.plan.model import DEMAND_SOURCES, Model

__all__ = [
    "FAMILY_SHARE",
    "PERSISTENCE",
    "DEFAULT_SAMPLES",
    "DEFAULT_SEED",
    "MAX_SAMPLES",
    "MEMORY_MB",
    "MEASURES",
    "HORIZON_MEASURES",
    "RANGE_COLUMNS",
    "SPREAD_KINDS",
    "Uncertainty",
    "PlanRanges",
    "demand_uncertainty",
    "sample_demand",
    "plan_ranges",
    "odds",
]

FAMILY_SHARE = 0.5  # ρ: the share of a sku's error variance its family shares
PERSISTENCE = 0.8  # φ: how much of a family's shock carries into the next month
Z90 = 1.2815515655446004  # the standard normal's 90th percentile
DEFAULT_SAMPLES = 1000
DEFAULT_SEED = 2026
MAX_SAMPLES = 100_000
MEMORY_MB = 256.0  # the working arrays of one batch of paths
# (M, S) float arrays a path holds at once in the engine (demand, supply, money, temporaries);
# measured with bench/bench_ranges.py's peak memory
ARRAYS_PER_PATH = 24
# sku-months planned at once: small plans are many paths a batch (the engine's per-month Python
# steps paid once for all), a large one goes path by path (bench/bench_ranges.py)
BATCH_CELLS = 200_000
MEASURES = ("revenue", "gross_margin", "closing_cash", "unmet_units")
HORIZON_MEASURES = ("revenue", "gross_margin", "lowest_cash", "cash_below_minimum_probability")
RANGE_COLUMNS = ["month", "measure", "p10", "p50", "p90"]
QUANTILES = (0.1, 0.5, 0.9)
# what each sku-month's spread comes from (Uncertainty.kind)
SPREAD_KINDS = ("certain", "baseline band", "track record", "band width (no track record)")
_CERTAIN, _BAND, _RECORD, _BAND_WIDTH = range(4)


@dataclass(frozen=True, eq=False)
class Uncertainty:
    """Each sku-month's demand spread, ``(M, S)``, on the demand before levers.

    A path's demand is ``point × exp(log_mean + log_sd × z)`` where ``by_record``, else
    ``max(0, point + z × (sd_low if z < 0 else sd_high))``; ``z`` standard normal.
    """

    point: np.ndarray
    log_mean: np.ndarray
    log_sd: np.ndarray
    sd_low: np.ndarray
    sd_high: np.ndarray
    by_record: np.ndarray
    kind: np.ndarray  # codes of SPREAD_KINDS

    @property
    def certain(self) -> bool:
        """True when no sku-month has any spread: every path is the point demand."""
        spread = np.where(self.by_record, self.log_sd + np.abs(self.log_mean), 0.0)
        return not (spread.any() or self.sd_low.any() or self.sd_high.any())

    def counts(self, model: Model) -> dict[str, int]:
        """Sku-months with a demand source, by what their spread comes from."""
        driven = model.demand_source > 0
        return {name: int(((self.kind == k) & driven).sum()) for k, name in enumerate(SPREAD_KINDS)}


def _grid_or_nan(values: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    return np.full(shape, np.nan) if values is None else np.asarray(values, dtype=float)


def demand_uncertainty(model: Model) -> Uncertainty:
    """Each sku-month's spread from the baseline's band and each source's track record."""
    shape = model.demand.shape
    point = np.asarray(model.demand, dtype=float)
    source = model.demand_source
    baseline = model.baseline
    p10 = _grid_or_nan(model.baseline_p10, shape)
    p90 = _grid_or_nan(model.baseline_p90, shape)
    band = np.isfinite(p10) & np.isfinite(p90) & np.isfinite(baseline)
    n_sources = len(DEMAND_SOURCES)
    n_families = len(model.families)
    means = _grid_or_nan(model.source_log_mean, (n_sources, n_families))
    sds = _grid_or_nan(model.source_log_sd, (n_sources, n_families))
    mean = means[source, model.sku_family[None, :]]
    sd = sds[source, model.sku_family[None, :]]
    forecast = source >= DEMAND_SOURCES.index("sales")
    by_record = forecast & np.isfinite(mean) & np.isfinite(sd)
    by_band = (source == DEMAND_SOURCES.index("baseline")) & band
    by_width = forecast & ~by_record & band & (baseline > 0)

    kind = np.full(shape, _CERTAIN, dtype=np.int8)
    kind[by_band], kind[by_record], kind[by_width] = _BAND, _RECORD, _BAND_WIDTH
    sd_low, sd_high = np.zeros(shape), np.zeros(shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        # the baseline drives: its own band
        sd_low[by_band] = (point - p10)[by_band] / Z90
        sd_high[by_band] = (p90 - point)[by_band] / Z90
        # a source without a record: the band's width relative to the baseline, on its figure
        width_low = point * (baseline - p10) / baseline / Z90
        width_high = point * (p90 - baseline) / baseline / Z90
    sd_low[by_width], sd_high[by_width] = width_low[by_width], width_high[by_width]
    return Uncertainty(
        point=point,
        log_mean=np.where(by_record, mean, 0.0),
        log_sd=np.where(by_record, sd, 0.0),
        sd_low=np.maximum(sd_low, 0.0),
        sd_high=np.maximum(sd_high, 0.0),
        by_record=by_record,
        kind=kind,
    )


def _normals(
    model: Model,
    children: list[np.random.SeedSequence],
    family_share: float,
    persistence: float,
) -> np.ndarray:
    """``(len(children), M, S)`` standard normals (float32: half the memory traffic, and more
    than precise enough for a sample), correlated within each family."""
    n_months, n_skus = model.demand.shape
    n_families = len(model.families)
    z = np.empty((len(children), n_months, n_skus), dtype=np.float32)
    shock = np.empty((len(children), n_months, n_families), dtype=np.float32)
    for i, child in enumerate(children):
        rng = np.random.Generator(np.random.PCG64(child))
        rng.standard_normal(out=z[i], dtype=np.float32)
        rng.standard_normal(out=shock[i], dtype=np.float32)
    carry = np.float32(math.sqrt(max(1.0 - persistence**2, 0.0)))
    for m in range(1, n_months):  # each family's shock carries into the next month
        shock[:, m] *= carry
        shock[:, m] += np.float32(persistence) * shock[:, m - 1]
    z *= np.float32(math.sqrt(1.0 - family_share))
    shock *= np.float32(math.sqrt(family_share))
    z += np.take(shock, model.sku_family, axis=-1)
    return z


def sample_demand(
    model: Model,
    uncertainty: Uncertainty,
    children: list[np.random.SeedSequence],
    *,
    family_share: float = FAMILY_SHARE,
    persistence: float = PERSISTENCE,
) -> np.ndarray:
    """One demand path (before levers) per seed child: ``(len(children), M, S)``, never below 0."""
    u = uncertainty
    z = _normals(model, children, family_share, persistence)
    demand = np.multiply(z, u.sd_high, dtype=float)
    if (u.sd_low != u.sd_high).any():  # a split normal: the low side's spread below the point
        np.multiply(z, u.sd_low, out=demand, where=z < 0.0)
    demand += u.point
    np.maximum(demand, 0.0, out=demand)
    if u.by_record.any():
        by_record = np.multiply(z, u.log_sd, dtype=float)
        del z
        by_record += u.log_mean
        np.exp(by_record, out=by_record)
        by_record *= u.point
        np.copyto(demand, by_record, where=u.by_record)
    return demand


def _quantiles(values: np.ndarray) -> np.ndarray:
    """``(3, ...)``: P10, P50, P90 over the first (sample) axis."""
    return np.quantile(values, QUANTILES, axis=0)


def odds(probability: float) -> str:
    """A probability strictly between 0 and 1 as people say it: "1 in 4", "3 in 4", "7 in 10",
    "1 in 20" (the simplest fraction over 2, 3, 4, 5 or 10 within 2.5 points; below 10 %,
    "1 in N"), else a percentage ("43 %")."""
    if probability < 0.1:
        return f"1 in {max(round(1.0 / probability), 2)}" if probability > 0 else "0 %"
    for n in (2, 3, 4, 5, 10):
        k = round(probability * n)
        if 0 < k < n and abs(k / n - probability) <= 0.025:
            return f"{k} in {n}"
    return f"{probability * 100:.0f} %"


@dataclass(frozen=True, eq=False)
class PlanRanges:
    """The plan's figures over sampled demand paths, with the point plan beside them.

    ``paths[measure]`` is ``(N, M)`` per path (revenue, gross_margin, closing_cash and
    unmet_units by month); ``point[measure]`` the same of the point plan (the plan of record's
    figures, from the same ``compute``).
    """

    months: tuple[str, ...]
    samples: int
    seed: int
    minimum_cash: float
    paths: dict[str, np.ndarray] = field(repr=False)
    point: dict[str, np.ndarray] = field(repr=False)
    spread_counts: dict[str, int] = field(default_factory=dict)
    family_share: float = FAMILY_SHARE
    persistence: float = PERSISTENCE

    @cached_property
    def below_minimum(self) -> np.ndarray:
        """``(M,)``: the share of paths whose closing cash is below minimum_cash in each month."""
        return (self.paths["closing_cash"] < self.minimum_cash).mean(axis=0)

    @cached_property
    def probability(self) -> float:
        """The share of paths whose closing cash falls below minimum_cash in some month."""
        return float((self.paths["closing_cash"] < self.minimum_cash).any(axis=1).mean())

    @property
    def riskiest_month(self) -> tuple[str, float]:
        """The month most likely to be below the minimum, and that likelihood (first of ties)."""
        i = int(np.argmax(self.below_minimum))
        return self.months[i], float(self.below_minimum[i])

    @cached_property
    def horizon_paths(self) -> dict[str, np.ndarray]:
        """``(N,)`` per path: horizon revenue, gross margin (sums), lowest closing cash."""
        return {
            "revenue": self.paths["revenue"].sum(axis=1),
            "gross_margin": self.paths["gross_margin"].sum(axis=1),
            "lowest_cash": self.paths["closing_cash"].min(axis=1),
        }

    @cached_property
    def monthly(self) -> pd.DataFrame:
        """Columns month, measure, p10, p50, p90, point: every measure in every month."""
        parts = []
        for measure in MEASURES:
            q = _quantiles(self.paths[measure])
            parts.append(
                pd.DataFrame(
                    {
                        "month": list(self.months),
                        "measure": measure,
                        "p10": q[0],
                        "p50": q[1],
                        "p90": q[2],
                        "point": self.point[measure],
                    }
                )
            )
        frame = pd.concat(parts, ignore_index=True)
        order = {m: i for i, m in enumerate(MEASURES)}
        frame = frame.assign(_o=frame["measure"].map(order)).sort_values(
            ["month", "_o"], kind="stable"
        )
        return frame.drop(columns="_o").reset_index(drop=True)

    @cached_property
    def horizon(self) -> pd.DataFrame:
        """Columns measure, p10, p50, p90, point: horizon revenue, gross margin, lowest cash and
        the probability that cash falls below the minimum in some month (the same in p10, p50,
        p90; the point plan's 1 or 0)."""
        point = {
            "revenue": float(self.point["revenue"].sum()),
            "gross_margin": float(self.point["gross_margin"].sum()),
            "lowest_cash": float(self.point["closing_cash"].min()),
        }
        rows = []
        for measure, values in self.horizon_paths.items():
            q = _quantiles(values)
            rows.append((measure, float(q[0]), float(q[1]), float(q[2]), point[measure]))
        below = float((self.point["closing_cash"] < self.minimum_cash).any())
        p = self.probability
        rows.append(("cash_below_minimum_probability", p, p, p, below))
        return pd.DataFrame(rows, columns=["measure", "p10", "p50", "p90", "point"])

    def frame(self) -> pd.DataFrame:
        """The ``ranges`` command's CSV: month, measure, p10, p50, p90; month ``horizon`` last."""
        monthly = self.monthly[RANGE_COLUMNS]
        horizon = self.horizon.assign(month="horizon")[RANGE_COLUMNS]
        return pd.concat([monthly, horizon], ignore_index=True)


def _batch_size(model: Model, samples: int, memory_mb: float, cells: int | None = None) -> int:
    """Paths planned at once: as many as ``memory_mb`` holds, and no more than ``cells``
    (default ``BATCH_CELLS``) sku-months in all."""
    cells = BATCH_CELLS if cells is None else cells
    path_cells = max(model.demand.size, 1)
    by_memory = memory_mb * 1e6 // (path_cells * 8 * ARRAYS_PER_PATH)
    return int(min(samples, max(1, by_memory), max(1, cells // path_cells)))


def plan_ranges(
    model: Model,
    levers: Levers | list[str] | None = None,
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    memory_mb: float = MEMORY_MB,
    family_share: float = FAMILY_SHARE,
    persistence: float = PERSISTENCE,
    uncertainty: Uncertainty | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PlanRanges:
    """The plan under ``levers`` over ``samples`` demand paths, and its point plan.

    Args:
        model: the prepared model (``record.model_of_record``: the plan of record's).
        levers: the plan's levers (``PlanOfRecord.levers``, or a scenario's).
        samples: how many demand paths, 1 to ``MAX_SAMPLES``.
        seed: the same seed and inputs give the same figures.
        memory_mb: the working memory of one batch of paths (fewer paths a batch when larger).
        family_share: ρ, the share of a sku's error variance its family shares (0 to 1).
        persistence: φ, how much of a family's shock carries into the next month (0 to 1).
        uncertainty: each sku-month's spread, when not ``demand_uncertainty(model)``.
        progress: called with (paths planned, samples) after each batch.

    Raises:
        PlanError: samples or the correlation outside their bounds.
        LeverError: a bad lever (as ``compute``).
    """
    if not 1 <= int(samples) <= MAX_SAMPLES or int(samples) != samples:
        raise PlanError(f"Samples: {samples} is not a whole number from 1 to {MAX_SAMPLES:,}.")
    for name, value in (("family_share", family_share), ("persistence", persistence)):
        if not 0.0 <= value <= 1.0:
            raise PlanError(f"{name}: {value} is not between 0 and 1.")
    samples = int(samples)
    point_result = compute(model, levers)
    levers = point_result.levers
    unc = uncertainty if uncertainty is not None else demand_uncertainty(model)
    children = np.random.SeedSequence(int(seed)).spawn(samples)
    paths = {m: np.empty((samples, len(model.months))) for m in MEASURES}
    batch = _batch_size(model, samples, memory_mb)
    for start in range(0, samples, batch):
        stop = min(start + batch, samples)
        demand = sample_demand(
            model,
            unc,
            children[start:stop],
            family_share=family_share,
            persistence=persistence,
        )
        # one path alone goes through the single-plan arrays, (M, S): the faster path then
        result = compute(replace(model, demand=demand[0] if len(demand) == 1 else demand), levers)
        money = result.finance
        paths["revenue"][start:stop] = money.revenue
        paths["gross_margin"][start:stop] = money.gross_margin
        paths["closing_cash"][start:stop] = money.closing_cash
        paths["unmet_units"][start:stop] = result.supply.unmet.sum(axis=-1)
        del demand, result, money
        if progress is not None:
            progress(stop, samples)
    point = {
        "revenue": point_result.finance.revenue,
        "gross_margin": point_result.finance.gross_margin,
        "closing_cash": point_result.finance.closing_cash,
        "unmet_units": point_result.supply.unmet.sum(axis=-1),
    }
    return PlanRanges(
        months=tuple(model.months),
        samples=samples,
        seed=int(seed),
        minimum_cash=float(model.settings.minimum_cash),
        paths=paths,
        point=point,
        spread_counts=unc.counts(model),
        family_share=family_share,
        persistence=persistence,
    )
