"""Synthetic credit-scoring data bundled with driftd (examples/data/credit_*.csv).

Regenerate with `python3 examples/data/generate_credit.py` (numpy; deterministic).
A toy credit model's inputs (6 numeric, 3 categorical features) and its score. The
"current" file is the same population after a shift: incomes fall ~15 %, the regional mix
moves north, a new loan purpose appears, some employment records go missing, and the model's
score moves with its inputs. Age, credit lines and the other features stay put, so a good drift
report flags some columns and not others.
"""
import csv
import pathlib

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROWS = 5000


def population(rng, n, drifted):
    age = np.clip(rng.normal(41, 12, n).round(), 18, 90)
    income = rng.lognormal(10.6 - (0.3 if drifted else 0.0), 0.45, n).round(2)
    debt_ratio = np.clip(rng.beta(2.0, 5.0, n), 0, 1).round(4)
    credit_lines = rng.poisson(4.0, n)
    months_employed = rng.gamma(2.0, 30.0, n).round()
    loan_amount = (rng.lognormal(9.2, 0.6, n) / 100).round() * 100
    regions = ["north", "south", "east", "west"]
    region_p = [0.40, 0.25, 0.20, 0.15] if drifted else [0.25, 0.25, 0.25, 0.25]
    region = rng.choice(regions, n, p=region_p)
    employment = rng.choice(["salaried", "self-employed", "contractor", "unemployed"], n, p=[0.6, 0.2, 0.15, 0.05])
    purposes = ["car", "home improvement", "debt consolidation", "education"]
    purpose_p = [0.3, 0.2, 0.4, 0.1]
    if drifted:
        purposes = purposes + ["crypto"]
        purpose_p = [0.27, 0.18, 0.37, 0.08, 0.10]
    purpose = rng.choice(purposes, n, p=purpose_p)
    logit = (
        -1.0
        + 0.9 * (np.log(income) - 10.6)
        - 2.5 * (debt_ratio - 0.28)
        + 0.01 * (age - 41)
        + 0.004 * (months_employed - 60)
        - 0.3 * (employment == "unemployed")
    )
    score = (1 / (1 + np.exp(-logit))).round(5)
    months = months_employed.astype(int).astype(object)
    if drifted:
        months[rng.random(n) < 0.04] = ""  # missing employment records
    return {
        "age": age.astype(int),
        "income": income,
        "debt_ratio": debt_ratio,
        "credit_lines": credit_lines,
        "months_employed": months,
        "loan_amount": loan_amount.astype(int),
        "region": region,
        "employment_type": employment,
        "loan_purpose": purpose,
        "score": score,
    }


def write(path, columns):
    names = list(columns)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names)
        for row in zip(*(columns[c] for c in names)):
            w.writerow(row)


def main():
    write(HERE / "credit_reference.csv", population(np.random.default_rng(2024), ROWS, drifted=False))
    write(HERE / "credit_current.csv", population(np.random.default_rng(2025), ROWS, drifted=True))


if __name__ == "__main__":
    main()
