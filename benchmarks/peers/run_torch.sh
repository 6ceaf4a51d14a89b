#!/bin/sh
# SPDX-License-Identifier: MIT
# run_torch.sh PYTHON SCRIPT OUT: runs the PyTorch peer when PYTHON can import torch, its
# lines kept in OUT; otherwise says so and leaves OUT empty (the peer is optional).
py="$1"; script="$2"; out="$3"
: > "$out"
if [ -x "$py" ] && "$py" -c "import torch" >/dev/null 2>&1; then
  "$py" "$script" | tee "$out"
else
  echo "bench_nn: $py cannot import torch (Debian: python3-torch); no PyTorch peer"
fi
exit 0
