"""The open cycle's prepared model kept beside the store (``meeting.kept``): read back array for
array, never read for other data or other code, and never a reason to lose the plan."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd

from sop_core.intake.importer import import_paths
from sop_core.meeting import kept, record
from sop_core.plan.engine import compute
from sop_core.plan.model import Model
from sop_core.store.audit import SQL_DATA_VERSION, data_stamp


def _prepared_calls(monkeypatch) -> list:
    calls = []
    real = record.prepared

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(record, "prepared", counting)
    return calls


def _same(a, b) -> None:
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(a, b)  # NaN where NaN
        else:
            assert a.tolist() == b.tolist()
    elif hasattr(a, "__dataclass_fields__") and not isinstance(a, Model):
        for f in fields(a):
            _same(getattr(a, f.name), getattr(b, f.name))
    else:
        assert a == b


def test_a_second_process_reads_the_model_kept_for_the_same_data(demo_store, monkeypatch):
    calls = _prepared_calls(monkeypatch)
    first = record.model_of_record(demo_store)
    path = kept.kept_path(demo_store)
    assert calls == [1] and path.exists()

    second = record.model_of_record(demo_store)  # nothing is cached in process: only the file
    assert calls == [1]
    for f in fields(Model):
        if f.name != "data":
            _same(getattr(first, f.name), getattr(second, f.name))
    assert second.data.tables["products"].equals(first.data.tables["products"])
    # the skus read back are text, as prepared, and a launch month left blank is None again
    assert all(type(s) is str for s in second.skus)
    assert [m is None for m in second.lifecycle.launch] == [
        m is None for m in first.lifecycle.launch
    ]
    pd.testing.assert_frame_equal(compute(second, {}).company, compute(first, {}).company)


def test_an_import_makes_the_next_model_new_and_keeps_that_one(demo_store, tmp_path, monkeypatch):
    record.model_of_record(demo_store)
    calls = _prepared_calls(monkeypatch)
    products = demo_store.read_table("products")
    products.loc[0, "unit_price"] = 1234.5
    folder = tmp_path / "new"
    folder.mkdir()
    products.to_csv(folder / "products.csv", index=False)
    import_paths(demo_store, [folder], user="test")

    model = record.model_of_record(demo_store)
    assert calls == [1]
    assert model.unit_price[list(model.skus).index(products.loc[0, "sku"])] == 1234.5
    assert record.model_of_record(demo_store).unit_price.tolist() == model.unit_price.tolist()
    assert calls == [1]  # the new data's model was kept in its turn


def test_a_model_kept_by_other_code_is_not_read(demo_store, monkeypatch):
    record.model_of_record(demo_store)
    calls = _prepared_calls(monkeypatch)
    monkeypatch.setattr(kept, "_code_fingerprint", lambda: "other code")
    record.model_of_record(demo_store)
    assert calls == [1]


def test_a_file_that_does_not_read_is_prepared_again_and_replaced(demo_store, monkeypatch):
    path = kept.kept_path(demo_store)
    path.write_bytes(b"PK\x03\x04 not a model")
    calls = _prepared_calls(monkeypatch)
    model = record.model_of_record(demo_store)
    assert calls == [1] and model.demand.size
    assert kept.read_kept(demo_store, kept.kept_key(demo_store, model.cycle)) is not None


def test_nothing_is_kept_when_the_store_moved_on_after_the_data_was_read(demo_store, tmp_path):
    version = data_stamp(demo_store).split("@")[0]
    folder = tmp_path / "again"
    folder.mkdir()
    demo_store.read_table("products").to_csv(folder / "products.csv", index=False)
    import_paths(demo_store, [folder], user="test")  # a write after the data was read
    record.model_of_record(demo_store, version=int(version))
    assert not kept.kept_path(demo_store).exists()


def test_a_model_whose_baseline_had_to_be_fitted_is_not_kept(demo_store, monkeypatch):
    real = record.prepared

    def fitted(store, data, settle=None):
        live, bias, model = real(store, data, settle=settle)
        return live.with_baseline(live.baseline.copy()), bias, model

    monkeypatch.setattr(record, "prepared", fitted)
    record.model_of_record(demo_store)
    assert not kept.kept_path(demo_store).exists()


def test_keeping_can_be_turned_off(demo_store, monkeypatch):
    monkeypatch.setenv(kept.ENV, "0")
    record.model_of_record(demo_store)
    assert kept.kept_path(demo_store) is None
    assert not (demo_store.path.parent / (demo_store.path.name + kept.SUFFIX)).exists()


def test_a_store_made_again_from_nothing_does_not_read_the_old_stores_model(demo_store, tmp_path):
    """The same number of writes is not the same data: the stamp holds the time of the last."""
    record.model_of_record(demo_store)
    old = kept.kept_key(demo_store, record.current_cycle(demo_store))
    assert data_stamp(demo_store).startswith(f"{demo_store.scalar(SQL_DATA_VERSION)}@")
    with demo_store.transaction() as cur:
        cur.execute("UPDATE audit_log SET logged_at = logged_at - INTERVAL 1 DAY")
    assert kept.kept_key(demo_store, record.current_cycle(demo_store)) != old


def test_a_model_kept_over_other_months_than_the_data_read_now_is_not_read(demo_store, monkeypatch):
    """A store with no actuals, cycle or plan_start takes its horizon from today's date."""
    from dataclasses import replace

    from sop_core.store.plandata import load_plan_data

    record.model_of_record(demo_store)
    calls = _prepared_calls(monkeypatch)
    data = load_plan_data(demo_store)
    later = replace(data, months=(*data.months[1:], "2099-01"))
    assert record.model_of_record(demo_store, data=later).months == later.months
    assert calls == [1]
