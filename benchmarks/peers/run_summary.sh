#!/bin/sh
# SPDX-License-Identifier: MIT
# run_summary.sh PYTHON SUMMARY JSON TORCH_OUT: prints the ratios fxp / peer when PYTHON runs.
py="$1"
if [ -x "$py" ]; then
  "$py" "$2" "$3" "$4" || echo "bench_nn: summary failed"
else
  echo "bench_nn: no $py, no summary"
fi
exit 0
