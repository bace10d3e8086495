"""Cross-checks `alexnet4j forward` against the same network in PyTorch (a developer tool; CI never runs it).

    scripts/alexnet4j export-weights --out w.npz                 # or any PyTorch-layout .npz
    scripts/alexnet4j sample-input --count 4 --out x.npy
    scripts/alexnet4j forward --weights w.npz --input x.npy --output y.npy
    python3 scripts/dev/pytorch_check.py --weights w.npz --input x.npy --logits y.npy [--model torchvision]

Needs numpy and torch (Debian: python3-torch). Prints the largest absolute and relative difference of the logits
and exits 1 when the relative difference exceeds --tolerance.

The paper net in PyTorch: towers as groups=2 (conv2, conv4, conv5), LRN within each tower, and the paper's LRN
alpha: torch.nn.LocalResponseNorm divides alpha by `size`, so it gets 5 * 1e-4.
"""
import argparse
import sys

import numpy as np
import torch
import torch.nn as nn


class TowerLRN(nn.Module):
    """The paper's LRN (k=2, n=5, alpha=1e-4 on the plain sum, beta=0.75) within each of `towers` channel groups."""

    def __init__(self, towers):
        super().__init__()
        self.towers = towers
        self.lrn = nn.LocalResponseNorm(size=5, alpha=5 * 1e-4, beta=0.75, k=2.0)

    def forward(self, x):
        return torch.cat([self.lrn(t) for t in torch.chunk(x, self.towers, dim=1)], dim=1)


def paper_net(w, towers=2, input_size=227):
    c1 = w["conv1.weight"].shape[0]
    c2, c3, c4, c5 = (w[f"conv{i}.weight"].shape[0] for i in (2, 3, 4, 5))
    g = towers
    layers = []
    if input_size == 224:
        layers.append(nn.ZeroPad2d((0, 3, 0, 3)))  # cuda-convnet's overhang: 224 -> 227
    layers += [
        nn.Conv2d(3, c1, 11, stride=4), nn.ReLU(), TowerLRN(g), nn.MaxPool2d(3, 2),
        nn.Conv2d(c1, c2, 5, padding=2, groups=g), nn.ReLU(), TowerLRN(g), nn.MaxPool2d(3, 2),
        nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(),
        nn.Conv2d(c3, c4, 3, padding=1, groups=g), nn.ReLU(),
        nn.Conv2d(c4, c5, 3, padding=1, groups=g), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Linear(w["fc6.weight"].shape[1], w["fc6.weight"].shape[0]), nn.ReLU(),
        nn.Linear(w["fc7.weight"].shape[1], w["fc7.weight"].shape[0]), nn.ReLU(),
        nn.Linear(w["fc8.weight"].shape[1], w["fc8.weight"].shape[0]),
    ]
    net = nn.Sequential(*layers)
    weighted = [m for m in net if isinstance(m, (nn.Conv2d, nn.Linear))]
    for m, name in zip(weighted, ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]):
        m.weight.data = torch.from_numpy(w[name + ".weight"])
        m.bias.data = torch.from_numpy(w[name + ".bias"])
    return net


def torchvision_net(w):
    """torchvision.models.alexnet, written out (so torchvision itself is not needed)."""
    features = nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))
    classifier = nn.Sequential(
        nn.Dropout(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
        nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000))
    net = nn.Sequential()
    net.add_module("features", features)
    net.add_module("avgpool", nn.AdaptiveAvgPool2d((6, 6)))
    net.add_module("flatten", nn.Flatten())
    net.add_module("classifier", classifier)
    # widths may be scaled: rebuild each layer from the arrays
    for key in [k[:-len(".weight")] for k in w if k.endswith(".weight")]:
        parent, index = key.split(".")
        old = getattr(net, parent)[int(index)]
        shape = w[key + ".weight"].shape
        if isinstance(old, nn.Conv2d):
            new = nn.Conv2d(shape[1], shape[0], old.kernel_size, stride=old.stride, padding=old.padding)
        else:
            new = nn.Linear(shape[1], shape[0])
        new.weight.data = torch.from_numpy(w[key + ".weight"])
        new.bias.data = torch.from_numpy(w[key + ".bias"])
        getattr(net, parent)[int(index)] = new
    return net


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--logits", required=True, help="alexnet4j forward's output for the same weights and input")
    p.add_argument("--model", default="paper", choices=["paper", "torchvision"])
    p.add_argument("--towers", type=int, default=2)
    p.add_argument("--tolerance", type=float, default=1e-4)
    a = p.parse_args()
    w = {k: np.ascontiguousarray(v) for k, v in np.load(a.weights).items()}
    x = torch.from_numpy(np.load(a.input))
    net = paper_net(w, a.towers, x.shape[-1]) if a.model == "paper" else torchvision_net(w)
    net.eval()
    with torch.no_grad():
        ours = net(x).numpy()
    theirs = np.load(a.logits)
    diff = np.abs(ours - theirs).max()
    rel = diff / max(np.abs(ours).max(), 1e-12)
    print(f"torch {torch.__version__}: logits {ours.shape}, max |diff| {diff:.3g}, relative {rel:.3g}, "
          f"argmax agree {np.mean(ours.argmax(1) == theirs.argmax(1)) * 100:.0f}%")
    return 0 if rel <= a.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
