#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Summarises the runs of examples/accuracy/run.sh: the final test accuracy of each mode
per seed, its mean, the gap to float's mean, and the throughput, as a Markdown table
(stdout), accuracy.csv, and accuracy_vs_epoch.svg (test accuracy per epoch, mean over the
seeds, one line per mode).

    python3 examples/accuracy/summarize.py results/accuracy
"""
import csv
import pathlib
import re
import sys

LABELS = {
    "float": "float",
    "fixed16_stochastic": "fixed 16-bit, stochastic",
    "fixed16_nearest": "fixed 16-bit, nearest",
    "fixed8_master16_stochastic": "8-bit fwd / 16-bit masters, stochastic",
    "fixed8_master16_nearest": "8-bit fwd / 16-bit masters, nearest",
    "fixed8_stochastic": "pure 8-bit weights, stochastic",
}
COLOURS = ["#222222", "#1f77b4", "#6baed6", "#d62728", "#ff9896", "#2ca02c"]


def load(folder):
    runs = {}
    for path in sorted(folder.glob("*_s[0-9]*.csv")):
        m = re.fullmatch(r"(.+)_s(\d+)\.csv", path.name)
        if not m:
            continue
        with path.open() as f:
            rows = list(csv.DictReader(f))
        if rows:
            runs.setdefault(m.group(1), {})[int(m.group(2))] = rows
    return runs


def mean(xs):
    return sum(xs) / len(xs)


def table(runs):
    order = [k for k in LABELS if k in runs] + sorted(k for k in runs if k not in LABELS)
    base = None
    if "float" in runs:
        base = mean([100 * float(r[-1]["test_accuracy"]) for r in runs["float"].values()])
    lines = ["| mode | epochs | seeds | test accuracy per seed (%) | mean (%) | vs float | img/s (1 thread) |",
             "|---|---|---|---|---|---|---|"]
    rows = []
    for name in order:
        seeds = sorted(runs[name])
        finals = [100 * float(runs[name][s][-1]["test_accuracy"]) for s in seeds]
        epochs = min(len(runs[name][s]) for s in seeds)
        speed = mean([mean([float(r["img_per_s"]) for r in runs[name][s]]) for s in seeds])
        m = mean(finals)
        gap = "" if base is None or name == "float" else f"{m - base:+.2f}"
        per_seed = ", ".join(f"{a:.2f}" for a in finals)
        lines.append(f"| {LABELS.get(name, name)} | {epochs} | {','.join(map(str, seeds))} | "
                     f"{per_seed} | {m:.2f} | {gap} | {speed:.0f} |")
        rows.append([name, epochs, " ".join(map(str, seeds)), per_seed, f"{m:.2f}", gap, f"{speed:.0f}"])
    return order, lines, rows


def svg(runs, order, path):
    w, h, left, right, top, bottom = 880, 460, 70, 360, 40, 60
    pw, ph = w - left - right, h - top - bottom
    lo, hi = 80.0, 93.0
    max_epoch = max(len(r) for v in runs.values() for r in v.values())
    x = lambda e: left + (e - 1) / max(1, max_epoch - 1) * pw
    y = lambda a: top + (hi - min(max(a, lo), hi)) / (hi - lo) * ph
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           'font-family="sans-serif" font-size="13">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="15">'
           'Reference CNN on Fashion-MNIST: test accuracy per epoch (mean over seeds)</text>']
    for a in range(int(lo), int(hi) + 1):
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(a):.1f}" y2="{y(a):.1f}" '
                   f'stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 8}" y="{y(a) + 4:.1f}" text-anchor="end">{a}</text>')
    for e in range(1, max_epoch + 1):
        out.append(f'<text x="{x(e):.1f}" y="{top + ph + 20}" text-anchor="middle">{e}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="black"/>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 15}" text-anchor="middle">epoch</text>')
    out.append(f'<text transform="translate(20 {top + ph / 2}) rotate(-90)" '
               'text-anchor="middle">test accuracy (%)</text>')
    for i, name in enumerate(order):
        seeds = sorted(runs[name])
        epochs = min(len(runs[name][s]) for s in seeds)
        pts = [(e + 1, mean([100 * float(runs[name][s][e]["test_accuracy"]) for s in seeds]))
               for e in range(epochs)]
        colour = COLOURS[i % len(COLOURS)]
        dash = ' stroke-dasharray="6 4"' if "nearest" in name else ""
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="' +
                   " ".join(f"{x(e):.1f},{y(a):.1f}" for e, a in pts) + '"/>')
        ly = top + 10 + 22 * i
        out.append(f'<line x1="{left + pw + 15}" x2="{left + pw + 45}" y1="{ly}" y2="{ly}" '
                   f'stroke="{colour}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{left + pw + 52}" y="{ly + 4}">{LABELS.get(name, name)} '
                   f'({len(seeds)} seed{"s" if len(seeds) > 1 else ""})</text>')
    out.append(f'<text x="{left + 5}" y="{top + ph - 8}" font-size="11" fill="#555">'
               f'values below {lo:.0f}% drawn at {lo:.0f}%</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def main():
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "results/accuracy")
    runs = load(folder)
    if not runs:
        sys.exit(f"summarize.py: no <mode>_s<seed>.csv files in {folder}")
    order, lines, rows = table(runs)
    print("\n".join(lines))
    with (folder / "accuracy.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["mode", "epochs", "seeds", "test_accuracy_per_seed", "mean", "vs_float", "img_per_s"])
        writer.writerows(rows)
    svg(runs, order, folder / "accuracy_vs_epoch.svg")
    print(f"wrote {folder / 'accuracy.csv'} and {folder / 'accuracy_vs_epoch.svg'}")


if __name__ == "__main__":
    main()
