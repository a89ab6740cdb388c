"""Write N valid customers as CSV (for the import and reminder benchmarks).

Usage: python bench/make_customers.py N FILE [--seed S]
RUCs are generated with valid check digits (sociedades privadas, third digit 9).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from pathlib import Path

from stdnum.ec import ruc as ruc_number

from bot.services.importer import FIELDS

PLANS = ("Emprendedor", "Pyme", "Empresarial")
MOBILE_PREFIXES = (8, 9)  # 098, 099: ranges libphonenumber knows as assigned


def company_ruc(serial: int) -> str:
    """Province 01-24, third digit 9 (private company), 6 digits, check digit, '001'."""
    province = 1 + serial % 24
    body = f"{province:02d}9{serial % 1_000_000:06d}"
    for check in range(10):
        candidate = f"{body}{check}001"
        if ruc_number.is_valid(candidate):
            return candidate
    raise ValueError(serial)


def write(count: int, path: Path, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = dt.date(2024, 1, 1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        serial = 0
        written = 0
        seen: set[str] = set()
        while written < count:
            serial += 1
            try:
                ruc = company_ruc(serial)
            except ValueError:
                continue
            if ruc in seen:
                continue
            seen.add(ruc)
            distributor = rng.randrange(20)
            signup = start + dt.timedelta(days=rng.randrange(1000))
            writer.writerow(
                [
                    ruc,
                    f"Empresa {serial} S.A.",
                    f"Contacto {serial}",
                    f"cliente{serial}@example.com",
                    f"09{rng.choice(MOBILE_PREFIXES)}{rng.randrange(1_000_000, 9_999_999)}",
                    PLANS[serial % 3],
                    signup.isoformat(),
                    f"Distribuidor {distributor}",
                    f"ventas{distributor}@distribuidor.example",
                ]
            )
            written += 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("file", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write(args.count, args.file, args.seed)
