"""Synthetic live traffic for the quickstart (examples/quickstart/{inputs,predictions,labels}.jsonl).

Regenerate with `python3 examples/quickstart/generate_traffic.py` (numpy; deterministic).
24 hours of a credit-scoring model's traffic, 300 requests an hour, starting 2026-11-01T00:00Z.
For the first 12 hours the population matches the reference (examples/data/credit_reference.csv);
from 12:00 on it is the shifted population of examples/data/credit_current.csv (lower incomes,
a different regional mix, a new loan purpose, missing employment records), so the drift shows up
in the windows after noon and not before. Inputs and predictions are separate streams, as a
model server would publish them, joined by request id.
"""
import datetime as dt
import json
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "data"))
from generate_credit import population  # noqa: E402

PER_HOUR = 300
HOURS = 24
START = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)


def main():
    rng = np.random.default_rng(7)
    half = PER_HOUR * HOURS // 2
    before = population(rng, half, drifted=False)
    after = population(rng, half, drifted=True)
    names = [c for c in before if c != "score"]
    with open(HERE / "inputs.jsonl", "w") as inputs, open(HERE / "predictions.jsonl", "w") as predictions:
        for i in range(PER_HOUR * HOURS):
            cols, j = (before, i) if i < half else (after, i - half)
            # Requests arrive uniformly within their hour; a few arrive a little out of order.
            seconds = i * 3600 / PER_HOUR + float(rng.uniform(0, 20))
            ts = (START + dt.timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            features = {}
            for name in names:
                value = cols[name][j]
                if value == "":
                    features[name] = None
                elif isinstance(value, (np.integer,)):
                    features[name] = int(value)
                elif isinstance(value, (np.floating, float)):
                    features[name] = float(value)
                else:
                    features[name] = value.item() if hasattr(value, "item") else value
            request = f"req-{i:06d}"
            inputs.write(json.dumps({"request_id": request, "ts": ts, "features": features}) + "\n")
            predictions.write(json.dumps({"request_id": request, "ts": ts, "score": float(cols["score"][j])}) + "\n")


def labels():
    """labels.jsonl: the outcome of each request (1 = default), known hours to days later.

    Before noon the score is calibrated (the outcome is 1 with probability `score`); from noon on
    the shifted population defaults for other reasons (probability 0.25 + 0.3 * an unrelated
    draw), so the model's ROC AUC falls. Delays are exponential (mean 6 h, at most 36 h); 3 % of
    outcomes never arrive and 1 % arrive twice; lines are in the order they arrive (label time).
    A separate generator, so inputs.jsonl and predictions.jsonl do not change.
    """
    rng = np.random.default_rng(11)
    noon = START + dt.timedelta(hours=12)
    out = []
    for line in open(HERE / "predictions.jsonl"):
        p = json.loads(line)
        ts = dt.datetime.fromisoformat(p["ts"].replace("Z", "+00:00"))
        chance = p["score"] if ts < noon else 0.25 + 0.3 * float(rng.uniform())
        outcome = int(rng.uniform() < chance)
        delay = min(float(rng.exponential(6 * 3600)), 36 * 3600)
        if rng.uniform() < 0.03:
            continue
        copies = 2 if rng.uniform() < 0.01 else 1
        for k in range(copies):
            at = ts + dt.timedelta(seconds=delay + k * 600)
            stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            out.append((at, json.dumps({"request_id": p["request_id"], "ts": stamp, "default": outcome})))
    out.sort(key=lambda pair: pair[0])
    with open(HERE / "labels.jsonl", "w") as f:
        for _, line in out:
            f.write(line + "\n")


if __name__ == "__main__":
    if "--labels-only" not in sys.argv:
        main()
    labels()
