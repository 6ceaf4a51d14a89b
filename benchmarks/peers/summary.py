#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Ratios fxp / peer of one bench_nn run against the targets of the NN speed work.

Usage: summary.py BENCH_NN_JSON [TORCH_LINES]
  BENCH_NN_JSON  bench_nn --benchmark_out=FILE --benchmark_out_format=json
  TORCH_LINES    the output of torch_cnn.py (`<name> img/s <value>` lines); optional

Targets (batch 32, 2 threads): fixed-point training >= 2x PyTorch float training;
fixed-point inference >= 3x PyTorch float inference and >= 1.5x PyTorch int8 inference;
every fxp mode >= 5x tiny-dnn. Missing peers are skipped.
"""

import json
import sys


def load_fxp(path):
    with open(path) as f:
        doc = json.load(f)
    rates = {}
    for b in doc.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration" or "img/s" not in b:
            continue
        name = b["name"]
        if name.endswith("/real_time"):
            name = name[: -len("/real_time")]
        rates[name] = float(b["img/s"])
    return rates, doc.get("context", {})


def load_torch(path):
    rates = {}
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[1] == "img/s" and not line.startswith("#"):
                    rates[parts[0]] = float(parts[2])
    except OSError:
        pass
    return rates


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    fxp, context = load_fxp(sys.argv[1])
    torch = load_torch(sys.argv[2]) if len(sys.argv) > 2 else {}

    print()
    print("bench_nn summary (img/s, higher is better; load average when run: "
          f"{context.get('load_avg', '?')})")
    width = max([len(k) for k in list(fxp) + list(torch)] + [10])
    for k, v in sorted(fxp.items()):
        print(f"  {k:<{width}} {v:>10.1f}")
    for k, v in sorted(torch.items()):
        print(f"  {k:<{width}} {v:>10.1f}")

    rows = []

    def ratio(what, ours, peer, target, table_peer):
        if ours not in fxp or peer not in table_peer:
            return
        r = fxp[ours] / table_peer[peer]
        rows.append((what, ours, peer, r, target, "met" if r >= target else "NOT met"))

    fixed_train = ["nn/train/b32/fxp_fixed16_stochastic", "nn/train/b32/fxp_fixed8_master"]
    fixed_infer = ["nn/infer/b32/fxp_fixed16", "nn/infer/b32/fxp_fixed8"]
    for t in fixed_train:
        ratio("fixed train vs torch float train", t, "torch_float_train_b32", 2.0, torch)
    for i in fixed_infer:
        ratio("fixed infer vs torch float infer", i, "torch_float_infer_b32", 3.0, torch)
    for i in ["nn/infer/b256/fxp_fixed16", "nn/infer/b256/fxp_fixed8"]:
        ratio("fixed infer b256 vs torch float b10000", i, "torch_float_infer_b10000", 3.0, torch)
    for i in fixed_infer:
        ratio("fixed infer vs torch int8 infer", i, "torch_int8_infer_b32", 1.5, torch)
    for i in ["nn/infer/b256/fxp_fixed16", "nn/infer/b256/fxp_fixed8"]:
        ratio("fixed infer b256 vs torch int8 b256", i, "torch_int8_infer_b256", 1.5, torch)
    ratio("float train vs torch float train", "nn/train/b32/fxp_float", "torch_float_train_b32", 1.0, torch)
    ratio("float infer vs torch float infer", "nn/infer/b32/fxp_float", "torch_float_infer_b32", 1.0, torch)
    for k in sorted(fxp):
        if "/fxp_" not in k:
            continue
        peer = k.rsplit("/", 1)[0] + "/tiny_dnn"
        ratio("fxp vs tiny-dnn", k, peer, 5.0, fxp)

    if not rows:
        print("\nno peers in this run: no ratios")
        return 0
    print()
    print(f"  {'comparison':<40} {'fxp row':<40} {'peer':<28} {'ratio':>7}  target")
    for what, ours, peer, r, target, verdict in rows:
        print(f"  {what:<40} {ours:<40} {peer:<28} {r:>6.2f}x  >= {target:g}x {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
