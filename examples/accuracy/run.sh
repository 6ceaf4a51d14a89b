#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The accuracy table of the README ("Training in fixed point: results"): the reference CNN
# trained for 10 epochs by examples/train in each mode, seeds 1-3, then summarised.
#
#   examples/accuracy/run.sh build/examples/train results/accuracy [jobs]
#
# Each run writes <name>_s<seed>.csv and .log into the results folder; runs already there
# are skipped, so an interrupted table resumes. `jobs` runs go side by side, one thread
# each (the bits do not depend on the thread count).
set -euo pipefail
train=${1:?usage: run.sh TRAIN_BINARY RESULTS_DIR [JOBS]}
out=${2:?usage: run.sh TRAIN_BINARY RESULTS_DIR [JOBS]}
jobs=${3:-2}
mkdir -p "$out"

configs=(
  "float|--mode float"
  "fixed16_stochastic|--mode fixed --weight-bits 16 --act-bits 16 --grad-bits 16 --rounding stochastic"
  "fixed8_master16_stochastic|--mode fixed --weight-bits 8 --act-bits 8 --grad-bits 16 --master-bits 16 --rounding stochastic"
  "fixed16_nearest|--mode fixed --weight-bits 16 --act-bits 16 --grad-bits 16 --rounding nearest"
  "fixed8_master16_nearest|--mode fixed --weight-bits 8 --act-bits 8 --grad-bits 16 --master-bits 16 --rounding nearest"
  "fixed8_stochastic|--mode fixed --weight-bits 8 --act-bits 8 --grad-bits 16 --rounding stochastic"
)

run_one() {
  local name=$1 seed=$2 flags=$3
  local stem="$out/${name}_s${seed}"
  [[ -s "$stem.csv" && $(wc -l < "$stem.csv") -ge 11 ]] && return 0
  # shellcheck disable=SC2086  # the flags are words
  "$train" $flags --seed "$seed" --epochs 10 --threads 1 --progress 60 --csv "$stem.csv.part" \
    > "$stem.log" 2>&1
  mv "$stem.csv.part" "$stem.csv"
  echo "$(date +%H:%M) $name seed $seed: $(grep -a 'test accuracy' "$stem.log" | tail -1)"
}
export -f run_one
export train out

for seed in 1 2 3; do
  for config in "${configs[@]}"; do
    printf '%s\0%s\0%s\0' "${config%%|*}" "$seed" "${config#*|}"
  done
done | xargs -0 -n 3 -P "$jobs" bash -c 'run_one "$@"' _

python3 "$(dirname "$0")/summarize.py" "$out"
