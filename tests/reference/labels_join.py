#!/usr/bin/env python3
"""Reference values for the daemon's label join (src/labels/): the quick start's predictions and
delayed labels (examples/quickstart/{predictions,labels}.jsonl, config
examples/quickstart/performance.yaml) joined as docs/performance.md defines it, and each hourly
window's final performance computed by scikit-learn 1.9.1 with the very calls of
tests/reference/performance.py.

Usage:
    python3 tests/reference/labels_join.py           # (re)write tests/data/labels/quickstart.json
    python3 tests/reference/labels_join.py --check   # exit 1 if the committed file differs

The join, independently of driftd's code: the first label line of a key wins (the file is in
arrival order); a label at l joins the prediction at t of its key when
t - 60 s (the allowed lateness) <= l <= t + 2 days (the retention); the pair belongs to the
prediction's hour [floor(t / 1h), +1h). Pairs are ordered by (t, score, label), the order the
daemon computes in, so sums agree to the last bit (tests/labels_replay.rs allows 1e-12 relative).
"""

import argparse
import json
import math
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
from sklearn import metrics  # noqa: F401  (used by the evaluated calls)
from sklearn.calibration import calibration_curve  # noqa: F401

sys.path.insert(0, str(Path(__file__).resolve().parent))
import performance  # noqa: E402  (the metric calls and ece())

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart"
OUT = ROOT / "tests" / "data" / "labels" / "quickstart.json"
HOUR = 3_600_000
LATENESS = 60_000
RETENTION = 2 * 24 * HOUR
THRESHOLD = 0.5


def ms(stamp):
    return round(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


def compute():
    predictions = {}
    counts = {}
    for line in open(QUICKSTART / "predictions.jsonl"):
        p = json.loads(line)
        t = ms(p["ts"])
        predictions[p["request_id"]] = (t, p["score"])
        counts[t // HOUR * HOUR] = counts.get(t // HOUR * HOUR, 0) + 1
    labels = {}
    for line in open(QUICKSTART / "labels.jsonl"):
        label = json.loads(line)
        labels.setdefault(label["request_id"], (ms(label["ts"]), label["default"]))
    pairs = {}
    for key, (t, score) in predictions.items():
        if key in labels:
            l, y = labels[key]
            if t - LATENESS <= l <= t + RETENTION:
                pairs.setdefault(t // HOUR * HOUR, []).append((t, score, float(y)))
    windows = []
    for start in sorted(counts):
        rows = sorted(pairs.get(start, []))
        y = np.array([r[2] for r in rows])
        p = np.array([r[1] for r in rows])
        yl, pl = y == 1, p >= THRESHOLD
        env = {"np": np, "metrics": metrics, "calibration_curve": calibration_curve, "ece": performance.ece,
               "y": y, "p": p, "yl": yl, "pl": pl}
        values = {}
        for name, call in {**performance.LABEL_CALLS, **performance.SCORE_CALLS}.items():
            value = float(eval(call, env))
            values[name] = value if math.isfinite(value) else None
        values["labelled_share"] = len(rows) / counts[start]
        windows.append({"start_ms": start, "predictions": counts[start], "labelled": len(rows), "values": values})
    return {"generated_by": "tests/reference/labels_join.py", "windows": windows}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    text = json.dumps(compute(), indent=1) + "\n"
    if args.check:
        if OUT.read_text() != text:
            sys.exit(f"{OUT}: differs from what labels_join.py computes; rerun it")
        print("labels_join.py --check: ok")
        return
    OUT.write_text(text)


if __name__ == "__main__":
    main()
