"""The open cycle's prepared model, kept on disk beside the store for its data version.

Preparing the model of record (the baseline check, the arrays, the track record's bias verdicts)
takes about 5 s at 100,000 skus, and every process that shows the plan needs it: each server
that starts (a restart, a second server), each command. The first one to prepare it for a data
version keeps its arrays in ``<store>.prepared.npz``; the others read them (about 0.2 s) and
take the rest from the plan data they read anyway (docs/SCALING.md).

What keeps the file true:
- Its key is the store's data stamp (the audit log's last write and its time: every import or
  edit writes it), the cycle, and a fingerprint of the code and of numpy and pandas. A file
  whose key differs is not read, and the next preparation replaces it.
- It is written only when the store has not moved since the data was read, and only for a
  model prepared from the data as stored (no baseline fitted on the way).
- Arrays only, read without pickle: a file that fails to read is ignored (and replaced).
- One file a store, written to a temporary name and renamed: a reader never sees half of it.

Frames worked out from the same data (the Demand review's track record: seconds at 100,000
skus) are kept the same way, as ``<store>.<name>.parquet`` with the key in its metadata
(``keep_frame``, ``read_kept_frame``).

``SOP_KEEP_PREPARED=0`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sop_core.plan.lifecycle import Lifecycle
from sop_core.plan.model import Model, choices_of
from sop_core.plan.supply import Routing
from sop_core.store.audit import data_stamp
from sop_core.store.plandata import PlanData

__all__ = [
    "ENV",
    "SUFFIX",
    "KeptModel",
    "kept_key",
    "kept_path",
    "is_kept",
    "read_kept",
    "keep_model",
    "read_kept_frame",
    "keep_frame",
]

log = logging.getLogger(__name__)

ENV = "SOP_KEEP_PREPARED"
SUFFIX = ".prepared.npz"
FORMAT = 1
# Taken from the plan data when the file is read, not kept: the frames and what the data says.
_FROM_DATA = frozenset({"data", "settings", "cycle", "consensus_choices", "routing"})
_NESTED = {"lifecycle": Lifecycle}


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """sop_core's source, numpy's and pandas' versions: a model prepared by other code is not
    this code's model."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"{np.__version__} {pd.__version__}".encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def kept_path(store, suffix: str = SUFFIX) -> Path | None:
    """Where ``store``'s prepared model (or what ``suffix`` names) is kept; None when nothing
    is (turned off, or a store not in a file)."""
    if os.environ.get(ENV, "1").strip() == "0":
        return None
    path = Path(store.path)
    if not path.is_file():
        return None
    return path.with_name(path.name + suffix)


def kept_key(store, cycle: str | None, version: int | None = None) -> str | None:
    """The key of the cycle's prepared model at data ``version`` (default: the store's now);
    None when nothing is kept for this store."""
    if kept_path(store) is None:
        return None
    stamp = data_stamp(store, version)
    if stamp is None:
        return None
    return json.dumps(
        {"format": FORMAT, "code": _code_fingerprint(), "cycle": cycle, "data": stamp},
        sort_keys=True,
    )


# --- arrays in, arrays out ----------------------------------------------------------------
def _pack(obj, prefix: str, arrays: dict, manifest: dict) -> None:
    for f in fields(obj):
        if not prefix and f.name in _FROM_DATA:
            continue
        name, value = prefix + f.name, getattr(obj, f.name)
        if f.name in _NESTED and not prefix:
            _pack(value, name + ".", arrays, manifest)
        elif value is None:
            manifest["none"].append(name)
        elif isinstance(value, tuple):
            if not all(isinstance(v, str) for v in value):
                raise TypeError(f"{name}: a tuple of other than text")
            arrays[name] = np.array(value, dtype=str)
            manifest["tuple"].append(name)
        elif isinstance(value, np.ndarray) and value.dtype == object:
            flat = value.ravel()
            if not all(v is None or isinstance(v, str) for v in flat):
                raise TypeError(f"{name}: objects other than text")
            missing = np.fromiter((v is None for v in flat), bool, len(flat)).reshape(value.shape)
            arrays[name] = np.where(missing, "", value).astype(str)
            arrays[name + "#none"] = missing
            manifest["text"].append(name)
        elif isinstance(value, np.ndarray):
            arrays[name] = value
        else:
            raise TypeError(f"{name}: a {type(value).__name__} is not kept")


def _unpack(cls, prefix: str, arrays, manifest: dict, given: dict) -> object:
    values = {}
    for f in fields(cls):
        name = prefix + f.name
        if f.name in given:
            values[f.name] = given[f.name]
        elif f.name in _NESTED and not prefix:
            values[f.name] = _unpack(_NESTED[f.name], name + ".", arrays, manifest, {})
        elif name in manifest["none"]:
            values[f.name] = None
        elif name in manifest["tuple"]:
            values[f.name] = tuple(str(v) for v in arrays[name])
        elif name in manifest["text"]:
            text = arrays[name].astype(object)
            text[arrays[name + "#none"]] = None
            values[f.name] = text
        else:
            values[f.name] = arrays[name]
    return cls(**values)


@dataclass(frozen=True)
class KeptModel:
    """A prepared model read from its file, but for what comes from the plan data."""

    arrays: dict
    manifest: dict

    @property
    def months(self) -> tuple[str, ...]:
        """The horizon it was prepared over (a store with no actuals, cycle or plan_start takes
        its horizon from today's date: the data read now may cover other months)."""
        return tuple(str(m) for m in self.arrays["months"])

    def model(self, live: PlanData) -> Model:
        """The model, with ``live`` (the plan data as ``prepare`` would have it) in place."""
        given = {
            "data": live,
            "settings": live.settings,
            "cycle": live.cycle,
            "consensus_choices": choices_of(live.consensus_choices),
            "routing": Routing.from_dense(self.arrays["hours_per_unit"]),
        }
        return _unpack(Model, "", self.arrays, self.manifest, given)


def _read(store, key: str | None, suffix: str, read):
    """``read(path)`` of the file ``suffix`` names (None there for another key), or None: none
    kept, or a file that does not read (cut short or not ours: worked out again, and replaced)."""
    path = kept_path(store, suffix) if key is not None else None
    if path is None or not path.exists():
        return None
    try:
        return read(path)
    except Exception as exc:
        log.warning("What is kept at %s does not read (%s): working it out again.", path, exc)
        return None


def is_kept(store, cycle: str | None) -> bool:
    """True when the cycle's prepared model for the store's data as it is now is kept."""
    key = kept_key(store, cycle)

    def read(path: Path) -> bool | None:
        with np.load(path, allow_pickle=False) as npz:
            return str(npz["key"]) == key or None

    return bool(_read(store, key, SUFFIX, read))


def read_kept(store, key: str | None) -> KeptModel | None:
    """The prepared model kept for ``key``, or None (none kept, another key, a file that does
    not read)."""

    def read(path: Path) -> KeptModel | None:
        with np.load(path, allow_pickle=False) as npz:
            if str(npz["key"]) != key:
                return None
            manifest = json.loads(str(npz["manifest"]))
            arrays = {name: npz[name] for name in npz.files if name not in ("key", "manifest")}
        return KeptModel(arrays, manifest)

    return _read(store, key, SUFFIX, read)


def _write(store, key: str | None, suffix: str, write) -> bool:
    """``write(file)`` to the file ``suffix`` names, then renamed into place; False when it is
    not kept (nothing is kept for this store, the store moved on since ``key``, or the file
    cannot be written)."""
    path = kept_path(store, suffix) if key is not None else None
    if path is None or json.loads(key)["data"] != data_stamp(store):
        return False
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError, pa.ArrowException) as exc:
        log.warning("Could not keep %s: %s", path, exc)
        tmp.unlink(missing_ok=True)
        return False
    return True


def keep_model(store, key: str | None, model: Model) -> bool:
    """Keep ``model`` for ``key`` beside the store; False when it is not kept."""

    def write(fh) -> None:
        arrays, manifest = {}, {"none": [], "tuple": [], "text": []}
        _pack(model, "", arrays, manifest)
        np.savez(fh, key=np.array(key), manifest=np.array(json.dumps(manifest)), **arrays)

    return _write(store, key, SUFFIX, write)


def _frame_suffix(name: str) -> str:
    return f".{name}.parquet"


def keep_frame(store, name: str, key: str | None, frame: pd.DataFrame) -> bool:
    """Keep ``frame`` as ``name`` for ``key`` beside the store; False when it is not kept."""

    def write(fh) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        meta = {**(table.schema.metadata or {}), b"sop_key": key.encode()}
        pq.write_table(table.replace_schema_metadata(meta), fh)

    return _write(store, key, _frame_suffix(name), write)


def read_kept_frame(store, name: str, key: str | None) -> pd.DataFrame | None:
    """The frame kept as ``name`` for ``key``, or None (none kept, another key, a file that
    does not read)."""

    def read(path: Path) -> pd.DataFrame | None:
        table = pq.read_table(path)
        if (table.schema.metadata or {}).get(b"sop_key") != key.encode():
            return None
        return table.to_pandas()

    return _read(store, key, _frame_suffix(name), read)
