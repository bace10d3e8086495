"""The PyTorch side of `alexnet4j bench`: the same networks timed the same way on the same machine (a developer tool;
CI never runs it). Needs torch (Debian: python3-torch with libopenblas0-pthread; use /usr/bin/python3).

    /usr/bin/python3 scripts/dev/pytorch_bench.py --model paper --batch 128 --warmup 1 --iters 3 [--threads 2]

Paper net: two towers as groups=2 (conv2, conv4, conv5), LRN within each tower (the paper's alpha: PyTorch divides
alpha by the window, so 5e-4), overlapping max pooling, dropout 0.5 after fc6 and fc7; SGD with classical momentum
0.9 and weight decay 5e-4 (PyTorch's SGD puts the decay into the momentum, as the paper). torchvision net: the same
layers as torchvision.models.alexnet, written out (torchvision is not needed). Prints JSON like `bench --json`.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_check import TowerLRN  # noqa: E402  (the paper's LRN within each tower, shared with the cross-check)


def paper(classes=1000, towers=2):
    g = towers
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), TowerLRN(g), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=g), nn.ReLU(), TowerLRN(g), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1, groups=g), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1, groups=g), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, classes))


def torchvision_alexnet(classes=1000):
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.AdaptiveAvgPool2d((6, 6)), nn.Flatten(),
        nn.Dropout(0.5), nn.Linear(9216, 4096), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(),
        nn.Linear(4096, classes))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="paper", choices=["paper", "torchvision"])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--markdown", action="store_true", help="print one row of bench --markdown's table")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    net = paper() if a.model == "paper" else torchvision_alexnet()
    size = 227 if a.model == "paper" else 224
    x = (torch.rand(a.batch, 3, size, size) - 0.5) * 100
    y = torch.arange(a.batch) % 1000
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()

    def timed(fn):
        for _ in range(a.warmup):
            fn()
        out = []
        for _ in range(a.iters):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
        return out

    net.train()
    steps = timed(step)
    with torch.no_grad():
        fwd = timed(lambda: net(x))
        net.eval()
        inf = timed(lambda: net(x))
    med = statistics.median
    if a.markdown:
        params = sum(p.numel() for p in net.parameters())
        st, f, i = med(steps), med(fwd), med(inf)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        srt = sorted(inf)
        pct = lambda p: srt[max(0, min(len(srt) - 1, -(-p * len(srt) // 100) - 1))]  # nearest rank, as bench's
        print(f"| pytorch {a.model} ({torch.__version__}, {torch.get_num_threads()} threads) | {a.batch} | {params:,} | "
              f"{st:.0f} | {a.batch * 1000 / st:.1f} | {f:.0f} | {st - f:.0f} | {i:.0f} | {pct(90):.2f} | {pct(99):.2f} | "
              f"{a.batch * 1000 / i:.1f} | {rss} MiB |")
        return
    print(json.dumps({
        "model": "pytorch " + a.model, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "blas": torch.__config__.show().split("BLAS_INFO=")[1].split(",")[0] if "BLAS_INFO=" in torch.__config__.show() else "?",
        "batch": a.batch,
        "trainStepMs": {"median": round(med(steps), 1), "min": round(min(steps), 1), "max": round(max(steps), 1)},
        "forwardTrainMs": round(med(fwd), 1),
        "backwardUpdateMs": round(med(steps) - med(fwd), 1),
        "trainImagesPerSecond": round(a.batch * 1000 / med(steps), 1),
        "inferMs": round(med(inf), 1),
        "inferImagesPerSecond": round(a.batch * 1000 / med(inf), 1),
        "peakResidentMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }, indent=1))


if __name__ == "__main__":
    main()
