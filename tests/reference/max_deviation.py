"""Print the largest relative deviation between `driftd compare --format json` and the reference
values in tests/data/cases/*/expected.json, per statistic (0 deviations are not listed: bit-identical).

Usage (from the repository root, after `cargo build --release`): python3 tests/reference/max_deviation.py
The pass/fail check with tolerances is tests/reference_values.rs; this script reports how close we are.
"""
import json, subprocess, pathlib, math
worst = {}
def upd(key, e, g):
    if e is None or g is None or isinstance(e, str) or isinstance(g, str): return
    if e == g: d = 0.0
    else: d = abs(e - g) / max(abs(e), 1e-300)
    if d > worst.get(key, (0,))[0]: worst[key] = (d, e, g)
for case in sorted(pathlib.Path('tests/data/cases').iterdir()):
    if not case.is_dir(): continue
    exp = json.load(open(case / 'expected.json'))
    for b in exp['binnings']:
        out = json.loads(subprocess.run(['target/release/driftd','compare','--reference',str(case/'reference.csv'),'--current',str(case/'current.csv'),'--format','json','--psi-binning',b],capture_output=True,text=True).stdout)
        for name, col in exp['columns'].items():
            got = out['columns'][name]
            if got['status'] != 'ok': continue
            bb = col.get('binnings', {}).get(b) or col.get('by_binning', {}).get(b)
            if bb is None:
                continue
            upd('psi/' + ('evidently' if b=='evidently' else 'frozen'), bb['psi']['value'], got['psi']['value'])
            upd('js', bb['jensen_shannon']['value'], got['jensen_shannon']['value'])
            upd('hellinger', bb['hellinger']['value'], got['hellinger']['value'])
            if col.get('ks'):
                upd('ks_stat', col['ks']['statistic'], got['ks']['statistic']); upd('ks_p', col['ks']['p_value'], got['ks']['p_value'])
            if col.get('wasserstein'):
                upd('wasserstein', col['wasserstein']['value'], got['wasserstein']['value']); upd('wasserstein_norm', col['wasserstein']['normalized'], got['wasserstein']['normalized'])
            if col.get('chisquare') and col['chisquare'].get('statistic') is not None:
                upd('chi2_stat', col['chisquare']['statistic'], got['chisquare']['statistic']); upd('chi2_p', col['chisquare']['p_value'], got['chisquare']['p_value'])
print('statistics not listed below are bit-identical to the reference in every case and binning')
for k, v in sorted(worst.items()): print(f"{k:18s} max rel dev {v[0]:.3e}  (expected {v[1]!r}, got {v[2]!r})")
