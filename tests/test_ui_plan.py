"""The app's cache of plans under levers stays within its memory budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ui import plan

K1 = ("price_change_pct=1",)  # levers_key: the levers as key[:q][@window]=value strings
K2 = ("price_change_pct=2",)
K3 = ("price_change_pct=3",)
K5 = ("volume_change_pct=5",)


class _Plan:
    """A stand-in plan: two arrays, a frame, and the shared model (not counted)."""

    def __init__(self, n: int):
        self.model = np.zeros(10_000)
        self.demand = np.zeros(n)  # 8n bytes
        self.supply = type("Supply", (), {})()
        self.supply.production = np.zeros(n)  # 8n bytes, one level down
        self.frame = pd.DataFrame({"x": np.zeros(n)})  # 8n bytes


def test_nbytes_counts_arrays_and_frames_but_not_the_model():
    assert plan.nbytes(_Plan(1000)) == 3 * 8 * 1000


@pytest.fixture
def fake_compute(monkeypatch):
    plan._results.clear()
    monkeypatch.setattr(plan, "_model", lambda path, version, cycle: None)
    made = []

    def compute(model, levers):
        made.append(levers)
        return _Plan(1000)  # 24,000 bytes

    monkeypatch.setattr(plan, "compute", compute)
    yield made
    plan._results.clear()


def test_plans_are_reused_and_the_oldest_dropped_past_the_budget(fake_compute, monkeypatch):
    monkeypatch.setenv(plan.BUDGET_ENV, "0.05")  # 50,000 bytes: two plans of 24,000
    first = plan._result("db", 1, "2026-01", K1)
    assert plan._result("db", 1, "2026-01", K1) is first
    assert len(fake_compute) == 1  # the second call was the cache
    plan._result("db", 1, "2026-01", K2)
    plan._result("db", 1, "2026-01", K3)
    assert len(plan._results) == 2  # 3 × 24,000 > 50,000: the oldest went
    again = plan._result("db", 1, "2026-01", K1)
    assert again is not first and len(fake_compute) == 4
    assert sum(size for _, size in plan._results.values()) <= 50_000


def test_a_plan_larger_than_the_budget_is_still_kept_alone(fake_compute, monkeypatch):
    monkeypatch.setenv(plan.BUDGET_ENV, "0.001")  # 1,000 bytes: smaller than one plan
    plan._result("db", 1, None, ())
    plan._result("db", 1, None, K5)
    assert len(plan._results) == 1
    assert list(plan._results)[0][3] == K5
