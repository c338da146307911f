"""Time and peak memory of importing hostile workbooks, against a valid workbook in the same run.

Run: ``nice -n 5 .venv/bin/python bench/bench_import_bounds.py`` (``--rows N`` for the valid
workbook, default 200,000 forecast rows; ``--unbounded`` also opens each hostile file with plain
openpyxl, as the import did before its bounds, under a 2 GB address-space cap and a 60 s limit).

The files are built here, seeded, in a temporary folder:

- ``strings``: 20 million shared strings in a file under 1 MB;
- ``cell``: one cell of 1 GB of text in a file under 1 MB;
- ``strings_within``: 4 million distinct shared strings: the part (96 MB, compressed like real
  text) passes the size and ratio bounds, so the count bound refuses it while streaming;
- ``cell_within``: one 250 MB cell, a sheet part under the sheet bound;
- ``valid``: a forecasts sheet of ``--rows`` rows, written by openpyxl, imported for real;
- ``floor``: a one-row CSV, for what any import process costs (Python, pandas, DuckDB).

Each import runs in a fresh process (``python -m sop_core import`` on a fresh store); the
figures are its wall time and its own peak resident memory (``ru_maxrss`` from ``wait4``).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="forecasts" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
HEADER = ("cycle", "month", "sku", "source", "units")
SHEET_HEAD = (
    f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData><row r="1">'
    + "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCDE"))
    + "</row>"
)
SHEET_TAIL = "</sheetData></worksheet>"
CHUNK = 1 << 20


def _write_stream(z: zipfile.ZipFile, name: str, pieces) -> None:
    with z.open(name, "w", force_zip64=True) as part:
        for piece in pieces:
            part.write(piece)


def hostile(path: Path, *, strings: int = 0, cell_bytes: int = 0, distinct: bool = False) -> Path:
    """A forecasts workbook with ``strings`` extra shared strings (``distinct``: numbered, so
    the part compresses like real text), or one cell of ``cell_bytes``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", TYPES)
        z.writestr("_rels/.rels", PACKAGE_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)

        def sheet():
            yield SHEET_HEAD.encode()
            if cell_bytes:
                yield b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
                block = b"a" * CHUNK
                for _ in range(cell_bytes // CHUNK):
                    yield block
                yield b"</t></is></c></row>"
            yield SHEET_TAIL.encode()

        def sst():
            yield f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode()
            yield "".join(f"<si><t>{h}</t></si>" for h in HEADER).encode()
            block = b"<si><t>x</t></si>" * 65_536
            for k in range(strings // 65_536):
                if distinct:
                    numbers = range(k * 65_536, (k + 1) * 65_536)
                    yield "".join(f"<si><t>{i:09d}</t></si>" for i in numbers).encode()
                else:
                    yield block
            yield b"</sst>"

        _write_stream(z, "xl/worksheets/sheet1.xml", sheet())
        _write_stream(z, "xl/sharedStrings.xml", sst())
    return path


def valid(path: Path, rows: int) -> Path:
    """A forecasts sheet of ``rows`` rows that the demo-like products below accept."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("forecasts")
    sheet.append(list(HEADER))
    months = [f"{2020 + k // 12}-{k % 12 + 1:02d}" for k in range(96)]
    per_cycle = 1_000
    for i in range(rows):
        cycle = months[i // (per_cycle * 12) % 84]
        month = months[months.index(cycle) + (i // per_cycle) % 12]
        sheet.append([cycle, month, f"S{i % per_cycle:04d}", ("sales", "marketing")[i % 2], i % 97])
    book.save(path)
    return path


def products_csv(folder: Path) -> Path:
    path = folder / "products.csv"
    lines = ["sku,name,family,unit_price,unit_material_cost,unit_variable_cost,target_cover_days"]
    lines += [f"S{i:04d},S{i:04d},F{i % 5},10,4,1,30" for i in range(1_000)]
    path.write_text("\n".join(lines) + "\n")
    return path


def measure(args: list[str], *, cap: int | None = None, timeout: float = 600) -> dict:
    """Run a child process: its wall time, its own peak memory (MB), exit code and last line."""

    def limit():
        if cap:
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    with tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(
            args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=limit
        )
        deadline = start + timeout
        while True:  # wait4, not wait: it returns this child's own peak memory
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                child.kill()
                pid, status, usage = os.wait4(child.pid, 0)
                status = None
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        child.returncode = 0  # reaped here; keeps Popen from waiting again
        err.seek(0)
        lines = [line.strip() for line in err.read().strip().splitlines()] or [""]
    code = "timeout" if status is None else os.waitstatus_to_exitcode(status)
    return {"s": seconds, "mb": usage.ru_maxrss / 1024, "code": code, "msg": lines[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--unbounded", action="store_true")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {
            "valid": valid(folder / "valid.xlsx", args.rows),
            "strings": hostile(folder / "strings.xlsx", strings=20_000_000),
            "cell": hostile(folder / "cell.xlsx", cell_bytes=1 << 30),
            "strings_within": hostile(
                folder / "strings_within.xlsx", strings=4_000_000, distinct=True
            ),
            "cell_within": hostile(folder / "cell_within.xlsx", cell_bytes=250 << 20),
        }
        products = products_csv(folder)
        files["floor"] = folder / "inventory.csv"  # what any import costs: the process itself
        files["floor"].write_text("sku,on_hand_units\nS0001,5\n")
        order = ["floor", "cell", "strings", "cell_within", "strings_within", "valid"]
        print(f"{'file':<16}{'size':>10}{'seconds':>9}{'peak MB':>9}  result")
        for name in order:
            path = files[name]
            db = folder / f"{name}.duckdb"
            subprocess.run(
                [python, "-m", "sop_core", "init", "--db", str(db)],
                cwd=ROOT, check=True, capture_output=True,
            )  # fmt: skip
            subprocess.run(
                [python, "-m", "sop_core", "import", "--db", str(db), str(products)],
                cwd=ROOT, check=True, capture_output=True,
            )  # fmt: skip
            got = measure([python, "-m", "sop_core", "import", "--db", str(db), str(path)])
            print(
                f"{name:<16}{path.stat().st_size / 1e3:>8,.0f}kB{got['s']:>9.1f}{got['mb']:>9.0f}"
                f"  exit {got['code']}: {got['msg'][:150]}"
            )
        if args.unbounded:
            print("\nplain openpyxl (the import before its bounds), 2 GB cap, 60 s limit:")
            code = (
                "import sys, openpyxl; b = openpyxl.load_workbook(sys.argv[1], read_only=True); "
                "[list(s.iter_rows(values_only=True)) for s in b.worksheets]"
            )
            for name in ("strings", "cell"):
                got = measure([python, "-c", code, str(files[name])], cap=2 << 30, timeout=60)
                print(
                    f"{name:<16}{got['s']:>9.1f} s{got['mb']:>9.0f} MB  exit {got['code']}: "
                    f"{got['msg'][:100]}"
                )


if __name__ == "__main__":
    main()
