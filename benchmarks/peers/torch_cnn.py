#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch peer of bench_nn: the reference CNN (fxp::nn::reference_cnn) on 2 threads.

Measures, each as the median of several timed repetitions after a warm-up:
  torch_float_train_b32     SGD steps (lr 0.02, momentum 0.9, weight decay 5e-4) at batch 32:
                            forward, softmax cross-entropy, backward, update
  torch_float_infer_b32     eval-mode forward of 32 images (torch.no_grad)
  torch_float_infer_b256    the same on 256 images
  torch_float_infer_b10000  the whole test set (10000 images) in one forward pass
  torch_int8_infer_b32      post-training static quantization (torch.ao.quantization, eager
                            mode, engine onednn; fbgemm when onednn is missing), batch 32
  torch_int8_infer_b256     the same on 256 images
and prints one line per measurement: `<name> img/s <value>`, plus `#` comment lines.

Images are Fashion-MNIST (/usr/share/datasets/fashion-mnist, read with the standard
library) when installed, random pixels of the same shape otherwise. Usage:
  /usr/bin/python3 torch_cnn.py [--threads 2] [--reps 7] [--data DIR]
"""

import argparse
import gzip
import os
import statistics
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path, count):
    """The first `count` items of an IDX file (gzip'd or plain) as a uint8 tensor."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        dims = [struct.unpack(">I", f.read(4))[0] for _ in range(magic & 0xFF)]
        n = min(count, dims[0])
        item = 1
        for d in dims[1:]:
            item *= d
        raw = f.read(n * item)
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape([n] + dims[1:])


def load_data(directory, n_train, n_test):
    def find(name):
        for suffix in (".gz", ""):
            p = os.path.join(directory, name + suffix)
            if os.path.exists(p):
                return p
        return None

    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"]
    paths = [find(n) for n in names]
    if all(paths):
        xtr = read_idx(paths[0], n_train).float().div_(255.0).unsqueeze(1)
        ytr = read_idx(paths[1], n_train).long()
        xte = read_idx(paths[2], n_test).float().div_(255.0).unsqueeze(1)
        return xtr, ytr, xte, "Fashion-MNIST"
    g = torch.Generator().manual_seed(20261201)
    return (torch.rand(n_train, 1, 28, 28, generator=g), torch.randint(0, 10, (n_train,), generator=g),
            torch.rand(n_test, 1, 28, 28, generator=g), "synthetic")


class ReferenceCNN(nn.Module):
    """conv 5x5 1->16 pad 2, relu, maxpool 2; conv 5x5 16->32, relu, maxpool 2;
    dense 800->128, relu; dense 128->10 (fxp::nn::reference_cnn). With quant/dequant stubs
    at the ends for eager-mode static quantization (identities in float)."""

    def __init__(self):
        super().__init__()
        self.quant = torch.ao.quantization.QuantStub()
        self.conv1 = nn.Conv2d(1, 16, 5, padding=2)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(800, 128)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(128, 10)
        self.dequant = torch.ao.quantization.DeQuantStub()

    def forward(self, x):
        x = self.quant(x)
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = self.relu3(self.fc1(x))
        return self.dequant(self.fc2(x))


def timed(fn, images, warmup, reps, min_seconds=0.2):
    """Median img/s over `reps` repetitions, each at least `min_seconds` of calls to fn()."""
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-6)
    calls = max(1, int(min_seconds / once))
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        rates.append(images * calls / (time.perf_counter() - t0))
    return statistics.median(rates)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    batches = 8
    xtr, ytr, xte, source = load_data(args.data, 32 * batches, 10000)
    if xte.shape[0] < 10000:  # a short test file: repeat it to the full set's size
        xte = xte.repeat((10000 + xte.shape[0] - 1) // xte.shape[0], 1, 1, 1)[:10000]
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, data {source}, "
          f"median of {args.reps}, OMP_WAIT_POLICY {os.environ.get('OMP_WAIT_POLICY', 'unset')}")

    out = []

    # ---- float training ----
    model = ReferenceCNN()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=5e-4)
    xb = list(xtr.split(32))
    yb = list(ytr.split(32))
    step = [0]

    def train_step():
        i = step[0] % batches
        step[0] += 1
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb[i]), yb[i])
        loss.backward()
        opt.step()

    out.append(("torch_float_train_b32", timed(train_step, 32, 10, args.reps)))

    # ---- float inference ----
    model.eval()
    x32, x256 = xte[:32].contiguous(), xte[:256].contiguous()
    with torch.no_grad():
        out.append(("torch_float_infer_b32", timed(lambda: model(x32), 32, 10, args.reps)))
        out.append(("torch_float_infer_b256", timed(lambda: model(x256), 256, 3, args.reps)))
        out.append(("torch_float_infer_b10000", timed(lambda: model(xte), 10000, 1, max(3, args.reps // 2), 0.0)))

    # ---- int8 inference: post-training static quantization ----
    engines = torch.backends.quantized.supported_engines
    engine = "onednn" if "onednn" in engines else ("fbgemm" if "fbgemm" in engines else None)
    if engine is None:
        print(f"# no onednn or fbgemm quantized engine (have {engines}): no int8 rows")
    else:
        if engine != "onednn":
            print(f"# onednn unavailable, int8 on {engine}")
        torch.backends.quantized.engine = engine
        qmodel = ReferenceCNN()
        qmodel.load_state_dict(model.state_dict())
        qmodel.eval()
        qmodel.qconfig = torch.ao.quantization.get_default_qconfig(engine)
        torch.ao.quantization.fuse_modules(
            qmodel, [["conv1", "relu1"], ["conv2", "relu2"], ["fc1", "relu3"]], inplace=True)
        torch.ao.quantization.prepare(qmodel, inplace=True)
        with torch.no_grad():
            for x in xtr.split(32):  # calibration on training images
                qmodel(x)
        torch.ao.quantization.convert(qmodel, inplace=True)
        print(f"# int8: engine {engine}, qconfig {engine} default, conv+relu and linear+relu fused")
        with torch.no_grad():
            out.append(("torch_int8_infer_b32", timed(lambda: qmodel(x32), 32, 10, args.reps)))
            out.append(("torch_int8_infer_b256", timed(lambda: qmodel(x256), 256, 3, args.reps)))

    for name, rate in out:
        print(f"{name} img/s {rate:.1f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
