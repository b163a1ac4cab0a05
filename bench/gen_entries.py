#!/usr/bin/env python3
"""Deterministic, realistic entries for `spendstream import`.

    python3 bench/gen_entries.py N YEARS [--seed S] > entries.csv

Writes N rows (plus the header) spread over the YEARS years that end on
2026-11-01 (exclusive), sorted by time, in the CSV layout `spendstream import`
reads: occurred_at,amount,currency,merchant,note,category,kind,id.

Amounts are INR between 20.00 and 5000.00 with two decimals, drawn per
merchant around a typical value; about 2% of the rows are income (salary,
refunds, cashback...). Most rows leave `category` empty so that the
categoriser assigns it from the merchant; a few set it explicitly. Every
row has a stable `id`, so importing the same file twice adds nothing twice.
Same N, YEARS and seed give the same bytes. Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys

END = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)

# (merchant, weight, typical amount INR, spread factor, hours it happens in, explicit category or "")
EXPENSE_MERCHANTS = [
    ("Swiggy", 14, 380, 0.5, (11, 23), ""),
    ("Zomato", 12, 420, 0.5, (11, 23), ""),
    ("Uber", 10, 260, 0.6, (7, 23), ""),
    ("Ola", 6, 230, 0.6, (7, 23), ""),
    ("Rapido", 4, 90, 0.5, (7, 22), ""),
    ("BigBasket", 7, 1400, 0.6, (8, 21), ""),
    ("Blinkit", 8, 520, 0.6, (7, 23), ""),
    ("Zepto", 6, 480, 0.6, (7, 23), ""),
    ("DMart", 3, 2100, 0.5, (10, 21), ""),
    ("Amazon", 7, 1300, 0.9, (0, 24), ""),
    ("Flipkart", 5, 1500, 0.9, (0, 24), ""),
    ("Myntra", 3, 1800, 0.7, (9, 24), ""),
    ("Shell", 3, 2200, 0.4, (7, 22), ""),
    ("Indian Oil", 3, 1900, 0.4, (6, 22), ""),
    ("HP Petrol Pump", 2, 1700, 0.4, (6, 22), ""),
    ("Apollo Pharmacy", 3, 650, 0.8, (8, 22), ""),
    ("1mg", 2, 540, 0.7, (0, 24), ""),
    ("Netflix", 1, 649, 0.0, (2, 4), ""),
    ("Spotify", 1, 119, 0.0, (2, 4), ""),
    ("Hotstar", 1, 299, 0.0, (2, 4), ""),
    ("Airtel", 2, 599, 0.3, (9, 21), ""),
    ("Jio Recharge", 2, 349, 0.3, (9, 21), ""),
    ("BESCOM", 1, 1850, 0.4, (9, 20), ""),
    ("Tata Power", 1, 1650, 0.4, (9, 20), ""),
    ("BookMyShow", 2, 720, 0.5, (10, 23), ""),
    ("PVR Cinemas", 2, 820, 0.4, (10, 23), ""),
    ("Starbucks", 4, 390, 0.3, (8, 21), ""),
    ("Chai Point", 4, 70, 0.4, (7, 20), ""),
    ("Cult.fit", 1, 1500, 0.3, (6, 21), ""),
    ("IRCTC", 2, 1450, 0.8, (0, 24), ""),
    ("MakeMyTrip", 1, 4200, 0.2, (0, 24), ""),
    ("IndiGo", 1, 4600, 0.1, (0, 24), ""),
    ("Urban Company", 1, 899, 0.5, (9, 20), ""),
    ("Decathlon", 1, 1600, 0.7, (10, 21), ""),
    ("Croma", 1, 3200, 0.4, (11, 21), ""),
    ("Udemy", 1, 499, 0.3, (0, 24), ""),
    ("Local Kirana Store", 6, 260, 0.8, (7, 22), "groceries"),
    ("Street food stall", 3, 120, 0.6, (16, 23), "food_dining"),
    ("Auto rickshaw", 4, 110, 0.5, (7, 23), "transport"),
    ("Barber", 1, 250, 0.3, (10, 20), "personal_care"),
    ("Temple donation", 1, 501, 0.5, (6, 20), "gifts_donations"),
    ("", 2, 300, 0.9, (8, 22), ""),  # merchant left empty
]

INCOME = [
    ("Salary top-up", 3, 4800, 0.05),
    ("Amazon refund", 3, 900, 0.8),
    ("Cashback", 5, 60, 0.6),
    ("Freelance payout", 2, 3500, 0.3),
    ("Interest credit", 2, 420, 0.5),
]

NOTES = ["", "", "", "", "", "", "lunch", "office", "weekend", "with friends", "monthly", "split with roommate",
         "gift", "urgent", "family", "trip"]

MIN_MINOR, MAX_MINOR = 2000, 500000


def amount_str(rng: random.Random, typical: float, spread: float) -> str:
    if spread == 0:
        minor = round(typical * 100)
    else:
        minor = round(rng.lognormvariate(0, spread) * typical * 100)
    minor = min(max(minor, MIN_MINOR), MAX_MINOR)
    return f"{minor // 100}.{minor % 100:02d}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, help="number of rows")
    ap.add_argument("years", type=float, help="years of history ending 2026-11-01")
    ap.add_argument("--seed", type=int, default=20261101)
    args = ap.parse_args()
    if args.n < 0 or args.years <= 0:
        ap.error("N must be >= 0 and YEARS > 0")

    rng = random.Random(args.seed)
    start = END - dt.timedelta(days=round(365.25 * args.years))
    span_days = (END - start).days

    exp_weights = [m[1] for m in EXPENSE_MERCHANTS]
    inc_weights = [m[1] for m in INCOME]

    # Pick each row's day first so the output is in time order, as a real export would be.
    days = sorted(rng.randrange(span_days) for _ in range(args.n))

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["occurred_at", "amount", "currency", "merchant", "note", "category", "kind", "id"])
    for i, day_off in enumerate(days):
        day = start + dt.timedelta(days=day_off)
        if rng.random() < 0.02:
            merchant, _, typical, spread = rng.choices(INCOME, inc_weights)[0]
            hours, category, kind = (9, 19), "", "income"
        else:
            merchant, _, typical, spread, hours, category = rng.choices(EXPENSE_MERCHANTS, exp_weights)[0]
            kind = "" if rng.random() < 0.5 else "expense"
        amount = amount_str(rng, typical, spread)
        if rng.random() < 0.3:
            occurred = day.date().isoformat()  # date only: noon in the user's zone
        else:
            h0, h1 = hours
            secs = rng.randrange(h0 * 3600, h1 * 3600)
            occurred = (day + dt.timedelta(seconds=secs)).strftime("%Y-%m-%dT%H:%M:%SZ")
        currency = "INR" if rng.random() < 0.5 else ""
        note = rng.choice(NOTES)
        out.writerow([occurred, amount, currency, merchant, note, category, kind, f"bench-{args.seed}-{i}"])


if __name__ == "__main__":
    main()
