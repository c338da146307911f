"""The open cycle's prepared model kept beside the store (``meeting.kept``): read back array for
array, never read for other data or other code, and never a reason to lose the plan."""

from __future__ import annotations

import shutil
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

from sop_core.intake.importer import import_paths
from sop_core.meeting import kept, record
from sop_core.plan.engine import compute
from sop_core.plan.model import Model
from sop_core.store.audit import SQL_DATA_VERSION, data_stamp
from sop_core.store.db import Store


@pytest.fixture
def db(demo_store_file, tmp_path):
    path = tmp_path / "plan.duckdb"
    shutil.copy(demo_store_file, path)
    with Store(path) as store:
        yield store


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


def test_a_second_process_reads_the_model_kept_for_the_same_data(db, monkeypatch):
    calls = _prepared_calls(monkeypatch)
    first = record.model_of_record(db)
    path = kept.kept_path(db)
    assert calls == [1] and path.exists()

    second = record.model_of_record(db)  # nothing is cached in process: only the file
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


def test_an_import_makes_the_next_model_new_and_keeps_that_one(db, tmp_path, monkeypatch):
    record.model_of_record(db)
    calls = _prepared_calls(monkeypatch)
    products = db.read_table("products")
    products.loc[0, "unit_price"] = 1234.5
    folder = tmp_path / "new"
    folder.mkdir()
    products.to_csv(folder / "products.csv", index=False)
    import_paths(db, [folder], user="test")

    model = record.model_of_record(db)
    assert calls == [1]
    assert model.unit_price[list(model.skus).index(products.loc[0, "sku"])] == 1234.5
    assert record.model_of_record(db).unit_price.tolist() == model.unit_price.tolist()
    assert calls == [1]  # the new data's model was kept in its turn


def test_a_model_kept_by_other_code_is_not_read(db, monkeypatch):
    record.model_of_record(db)
    calls = _prepared_calls(monkeypatch)
    monkeypatch.setattr(kept, "_code_fingerprint", lambda: "other code")
    record.model_of_record(db)
    assert calls == [1]


def test_a_file_that_does_not_read_is_prepared_again_and_replaced(db, monkeypatch):
    path = kept.kept_path(db)
    path.write_bytes(b"PK\x03\x04 not a model")
    calls = _prepared_calls(monkeypatch)
    model = record.model_of_record(db)
    assert calls == [1] and model.demand.size
    assert kept.read_kept(db, kept.kept_key(db, model.cycle)) is not None


def test_nothing_is_kept_when_the_store_moved_on_after_the_data_was_read(db, tmp_path):
    version = data_stamp(db).split("@")[0]
    folder = tmp_path / "again"
    folder.mkdir()
    db.read_table("products").to_csv(folder / "products.csv", index=False)
    import_paths(db, [folder], user="test")  # a write after the data was read
    record.model_of_record(db, version=int(version))
    assert not kept.kept_path(db).exists()


def test_a_model_whose_baseline_had_to_be_fitted_is_not_kept(db, monkeypatch):
    real = record.prepared

    def fitted(store, data, settle=None):
        live, bias, model = real(store, data, settle=settle)
        return live.with_baseline(live.baseline.copy()), bias, model

    monkeypatch.setattr(record, "prepared", fitted)
    record.model_of_record(db)
    assert not kept.kept_path(db).exists()


def test_keeping_can_be_turned_off(db, monkeypatch):
    monkeypatch.setenv(kept.ENV, "0")
    record.model_of_record(db)
    assert kept.kept_path(db) is None
    assert not (db.path.parent / (db.path.name + kept.SUFFIX)).exists()


def test_a_store_made_again_from_nothing_does_not_read_the_old_stores_model(db, tmp_path):
    """The same number of writes is not the same data: the stamp holds the time of the last."""
    record.model_of_record(db)
    old = kept.kept_key(db, record.current_cycle(db))
    assert data_stamp(db).startswith(f"{db.scalar(SQL_DATA_VERSION)}@")
    with db.transaction() as cur:
        cur.execute("UPDATE audit_log SET logged_at = logged_at - INTERVAL 1 DAY")
    assert kept.kept_key(db, record.current_cycle(db)) != old


def test_a_model_kept_over_other_months_than_the_data_read_now_is_not_read(db, monkeypatch):
    """A store with no actuals, cycle or plan_start takes its horizon from today's date."""
    from dataclasses import replace

    from sop_core.store.plandata import load_plan_data

    record.model_of_record(db)
    calls = _prepared_calls(monkeypatch)
    data = load_plan_data(db)
    later = replace(data, months=(*data.months[1:], "2099-01"))
    assert record.model_of_record(db, data=later).months == later.months
    assert calls == [1]
