"""Import speed against pymarc's bare parse of the same file.

    .venv/bin/python bench/import_marc.py              # about 50,000 records per format
    .venv/bin/python bench/import_marc.py --copies 20  # smaller

For each real catalog file in tests/data/catalog, a large file is made by repeating its records
with a unique control number each time (patched in the bytes, so MARC-8 stays MARC-8 and
UNIMARC keeps its quirks). Then, on the same file:

* the floor: iterating pymarc's own reader over it (``MARCReader`` with the options the file
  needs, or ``pymarc.map_xml`` for MARCXML), building every record and doing nothing else;
* the import: ``bot.catalog.importer.import_files`` into a new SQLite store (parse, map, write
  records, ISBNs, the search index and the copies, in batches of transactions). For files this
  big the importer parses in one worker process per core; ``--single-process`` measures the
  in-thread path that small files take.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pymarc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.catalog.importer import import_files
from db.store import Store

CATALOG = Path(__file__).resolve().parent.parent / "tests" / "data" / "catalog"
CACHE = Path(__file__).resolve().parent / ".cache"

SOURCES = {
    "marc21 (Koha, 952 holdings)": ("koha_ktd_marc21_952.mrc", "marc21"),
    "unimarc (BNCF, UTF-8 NFD)": ("bncf_sbnweb_unimarc.mrc", "unimarc"),
    "marc21 MARC-8 (Evergreen)": ("evergreen_lul_fre500_marc8.mrc", "marc21"),
    "marcxml (Koha)": ("koha_ktd_marc21.xml", "marcxml"),
}


def _patch_record(record: bytes, serial: int, copy: int) -> bytes | None:
    """The record with a unique 001 and unique Koha barcodes (same lengths, so the directory
    stays valid), or None if it has no 001 or one too short to hold the serial number."""
    base = int(record[12:17])
    directory = record[24 : base - 1]
    for start in range(0, len(directory), 12):
        entry = directory[start : start + 12]
        if entry[:3] == b"001":
            length = int(entry[3:7]) - 1
            offset = base + int(entry[7:12])
            unique = f"{serial:0{length}d}".encode()
            if len(unique) > length:
                return None
            record = record[:offset] + unique + record[offset + length :]
            # 952$p barcodes: the copy number in their first four digits.
            return re.sub(
                rb"\x1fp\d{4}(\d{5,})",
                lambda match: b"\x1fp" + f"{copy:04d}".encode() + match.group(1),
                record,
            )
    return None


def replicate_iso2709(source: Path, target: Path, copies: int) -> int:
    records = [chunk + b"\x1d" for chunk in source.read_bytes().split(b"\x1d") if chunk.strip()]
    written = 0
    with target.open("wb") as out:
        for copy in range(copies):
            for record in records:
                patched = _patch_record(record, written + 1, copy)
                if patched is not None:
                    out.write(patched)
                    written += 1
    return written


def replicate_xml(source: Path, target: Path, copies: int) -> int:
    text = source.read_text(encoding="utf-8")
    head, _, rest = text.partition("<record")
    body, _, tail = ("<record" + rest).rpartition("</record>")
    body += "</record>"
    pattern = re.compile(r'(<controlfield tag="001">)([^<]*)(</controlfield>)')
    records = [part for part in re.split(r"(?=<record[\s>])", body) if "001" in part]
    written = 0
    with target.open("w", encoding="utf-8") as out:
        out.write(head)
        for copy in range(copies):
            for record in records:
                if not pattern.search(record):
                    continue
                out.write(pattern.sub(rf"\g<1>\g<2>-{copy}\g<3>", record))
                written += 1
        out.write(tail)
    return written


def bare_parse(path: Path, syntax: str) -> int:
    count = 0
    if syntax == "marcxml":

        def one(record: pymarc.Record) -> None:
            nonlocal count
            count += 1

        pymarc.map_xml(one, str(path))
        return count
    with path.open("rb") as handle:
        reader = pymarc.MARCReader(
            handle, to_unicode=True, force_utf8=syntax == "unimarc", hide_utf8_warnings=True
        )
        for record in reader:
            if record is not None:
                count += 1
    return count


async def import_into_new_store(path: Path, database: Path, parallel: bool | None = None) -> int:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 (before timing)
    async with await Store.open(database) as store:
        summary = await import_files(
            store, [path], now=datetime(2026, 11, 1, tzinfo=UTC), parallel=parallel
        )
    return summary.imported


def timed_parse(path: Path, syntax: str, runs: int) -> float:
    """The best of ``runs`` bare parses, in seconds."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        bare_parse(path, syntax)
        timings.append(time.perf_counter() - started)
    return min(timings)


def timed_import(path: Path, database: Path, parallel: bool | None, runs: int) -> tuple[float, int]:
    """The best of ``runs`` imports into a new store, in seconds, and the records imported."""
    timings = []
    imported = 0
    for _ in range(runs):
        started = time.perf_counter()
        imported = asyncio.run(import_into_new_store(path, database, parallel))
        timings.append(time.perf_counter() - started)
    return min(timings), imported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--single-process",
        action="store_true",
        help="parse in a thread of the importing process, as for small files",
    )
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    results = []
    for label, (name, syntax) in SOURCES.items():
        source = CATALOG / name
        target = CACHE / f"big-{args.copies}-{name}"
        if syntax == "marcxml":
            records = replicate_xml(source, target, max(1, args.copies // 2))
        else:
            records = replicate_iso2709(source, target, args.copies)
        database = CACHE / "import-bench.sqlite3"
        parsed = bare_parse(target, syntax)
        assert parsed == records, (parsed, records)
        parse_seconds = timed_parse(target, syntax, args.runs)
        parallel = False if args.single_process else None
        import_seconds, imported = timed_import(target, database, parallel, args.runs)
        assert imported == records, (imported, records)
        results.append(
            {
                "file": label,
                "records": records,
                "mb": round(target.stat().st_size / 2**20, 1),
                "parse_records_per_s": round(records / parse_seconds),
                "import_records_per_s": round(records / import_seconds),
                "ratio": round(import_seconds / parse_seconds, 2),
            }
        )
        print(json.dumps(results[-1]), file=sys.stderr)
    print(
        json.dumps(
            {
                "results": results,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "single_process": args.single_process,
                "cores": os.cpu_count(),
                "python": sys.version.split()[0],
                "pymarc": pymarc.__version__ if hasattr(pymarc, "__version__") else "5.x",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
