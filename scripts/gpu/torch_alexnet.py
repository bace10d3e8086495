#!/usr/bin/env python3
"""The paper's two-tower AlexNet in PyTorch eager, timed on the same GPU as alexnet4j's CUDA engine (the GPU
bundle's step (e)). Same net as the engine: conv2/conv4/conv5 grouped (2 towers), per-tower LRN (k=2, n=5, the
paper's alpha 1e-4 on the plain sum, i.e. PyTorch's alpha 5e-4), overlapping 3/2 max pooling, dropout 0.5 after
fc6 and fc7, 1000 classes, 227x227, SGD with momentum 0.9 and weight decay 5e-4. cudnn.benchmark on (as the
engine's algorithm search). Inputs stay on the GPU for throughput; batch-1 latency copies the image in and the
logits out, as the engine's does. Writes one JSON object: {"fp32 b128": {...}, ...}."""
import argparse
import json
import time

import torch
import torch.nn as nn


class TowerLRN(nn.Module):
    def __init__(self):
        super().__init__()
        self.lrn = nn.LocalResponseNorm(5, alpha=1e-4 * 5, beta=0.75, k=2.0)

    def forward(self, x):
        n, c, h, w = x.shape
        return self.lrn(x.reshape(n * 2, c // 2, h, w)).reshape(n, c, h, w)


def alexnet():
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True), TowerLRN(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(inplace=True), TowerLRN(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Linear(9216, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 1000))


def timed(fn, iters):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / iters


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    result = {"torch": torch.__version__, "cudnn": torch.backends.cudnn.version(),
              "gpu": torch.cuda.get_device_name(0)}
    for precision in ("fp32", "tf32"):
        tf32 = precision == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        for batch in (128, 256):
            torch.manual_seed(0)
            model = alexnet().to(dev)
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
            loss_fn = nn.CrossEntropyLoss()
            x = torch.randn(batch, 3, 227, 227, device=dev)
            y = torch.randint(0, 1000, (batch,), device=dev)

            def step():
                opt.zero_grad(set_to_none=True)
                loss_fn(model(x), y).backward()
                opt.step()

            model.train()
            for _ in range(5):
                step()
            train_ms = timed(step, 15)
            model.eval()
            with torch.no_grad():
                for _ in range(3):
                    model(x)
                infer_ms = timed(lambda: model(x), 30)
            result[f"{precision} b{batch}"] = {"trainStepMs": train_ms, "trainImagesPerSec": batch * 1000 / train_ms,
                                               "inferenceMs": infer_ms,
                                               "inferenceImagesPerSec": batch * 1000 / infer_ms}
            del model, opt
        model = alexnet().to(dev).eval()
        image = torch.randn(1, 3, 227, 227).pin_memory()
        times = []
        with torch.no_grad():
            for i in range(320):
                t0 = time.perf_counter()
                model(image.to(dev, non_blocking=True)).cpu()
                if i >= 20:
                    times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        result[f"{precision} b1 latency"] = {"p50Ms": times[len(times) // 2], "p99Ms": times[int(len(times) * 0.99)]}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
