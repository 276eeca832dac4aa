#!/usr/bin/python3
"""Generate nodes/testdata/video_fixtures.json: PyTorch parity fixtures for
the ops of package nodes on folded video frames (Conv2D, BatchNorm,
Rectify, and the three in a row as the video layers use them).

How to run it (from the repository root)
----------------------------------------
    /usr/bin/python3 nodes/testdata/make_video_fixtures.py

It needs Debian's PyTorch (`apt-get install -y python3-torch`) under Debian's
own interpreter /usr/bin/python3. The output is deterministic (fixed seed,
float64) and written next to this script; an optional argument gives another
path.

What each case holds
--------------------
Every case is computed in float64 by PyTorch's own modules on images
x [N, C, H, W], and stores the scalar loss = sum(gy * y) for a random gy of
y's shape, with its gradients. Tensors are flat row-major lists of floats
(repr, exact float64).

  conv2d     nn.Conv2d(C, K, (kh, kw), stride=(sh, sw), padding=(ph, pw))
             with its bias: x, w [K, C, kh, kw], b [K], y, gy, dx, dw, db
  batchnorm  nn.BatchNorm2d(C, eps=1e-5, momentum=0.1) in training mode,
             from running mean 0 and variance 1: x, scale, offset, y, gy,
             dx, dscale, doffset, and the running mean and variance after
             the step (PyTorch's running variance takes the unbiased batch
             variance, as BatchNormState documents)
  relu       torch.relu: x, y, gy, dx (x keeps clear of 0)
  pipeline   the three in a row, as a video network's layers: conv2d with
             'same' padding, batchnorm, relu; its fields are conv2d's and
             batchnorm's (scale, offset, running statistics)
"""

import json
import os
import sys

import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)
GEN = torch.Generator().manual_seed(20261207)


def randn(*shape):
    return torch.randn(*shape, generator=GEN)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def loss_grads(y, inputs):
    gy = randn(*y.shape)
    grads = torch.autograd.grad((gy * y).sum(), inputs)
    return gy, grads


def conv_module(c, k, kernel, stride, pad):
    conv = nn.Conv2d(c, k, kernel, stride=stride, padding=pad)
    with torch.no_grad():
        conv.weight.copy_(randn(*conv.weight.shape))
        conv.bias.copy_(randn(k))
    return conv


def conv_fields(conv, kernel, stride, pad):
    return {"K": conv.out_channels, "kh": kernel[0], "kw": kernel[1], "sh": stride[0], "sw": stride[1],
            "ph": pad[0], "pw": pad[1], "w": flat(conv.weight), "b": flat(conv.bias)}


def bn_module(c):
    bn = nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)
    with torch.no_grad():
        bn.weight.copy_(1 + 0.5 * randn(c))
        bn.bias.copy_(randn(c))
    return bn.train()


def bn_fields(bn):
    return {"scale": flat(bn.weight), "offset": flat(bn.bias),
            "running_mean": flat(bn.running_mean), "running_var": flat(bn.running_var)}


def conv_case(name, n, c, h, w, k, kernel, stride, pad):
    x = randn(n, c, h, w).requires_grad_()
    conv = conv_module(c, k, kernel, stride, pad)
    y = conv(x)
    gy, (dx, dw, db) = loss_grads(y, (x, conv.weight, conv.bias))
    case = {"name": name, "op": "conv2d", "shape": [n, c, h, w], "x": flat(x), "y": flat(y), "gy": flat(gy),
            "dx": flat(dx), "dw": flat(dw), "db": flat(db)}
    case.update(conv_fields(conv, kernel, stride, pad))
    return case


def bn_case(name, n, c, h, w, shift):
    x = (randn(n, c, h, w) * 2 + shift).requires_grad_()
    bn = bn_module(c)
    y = bn(x)
    gy, (dx, dscale, doffset) = loss_grads(y, (x, bn.weight, bn.bias))
    case = {"name": name, "op": "batchnorm", "shape": [n, c, h, w], "x": flat(x), "y": flat(y), "gy": flat(gy),
            "dx": flat(dx), "dscale": flat(dscale), "doffset": flat(doffset)}
    case.update(bn_fields(bn))
    return case


def relu_case(name, n, c, h, w):
    x = randn(n, c, h, w)
    x = (x + 0.05 * torch.sign(x)).requires_grad_()  # no value within 0.05 of 0
    y = torch.relu(x)
    gy, (dx,) = loss_grads(y, (x,))
    return {"name": name, "op": "relu", "shape": [n, c, h, w], "x": flat(x), "y": flat(y), "gy": flat(gy),
            "dx": flat(dx)}


def pipeline_case(name, n, c, h, w, k):
    kernel, stride, pad = (3, 3), (1, 1), (1, 1)
    x = randn(n, c, h, w).requires_grad_()
    conv, bn = conv_module(c, k, kernel, stride, pad), bn_module(k)
    y = torch.relu(bn(conv(x)))
    gy, (dx, dw, db, dscale, doffset) = loss_grads(y, (x, conv.weight, conv.bias, bn.weight, bn.bias))
    case = {"name": name, "op": "pipeline", "shape": [n, c, h, w], "x": flat(x), "y": flat(y), "gy": flat(gy),
            "dx": flat(dx), "dw": flat(dw), "db": flat(db), "dscale": flat(dscale), "doffset": flat(doffset)}
    case.update(conv_fields(conv, kernel, stride, pad))
    case.update(bn_fields(bn))
    return case


def main():
    cases = [
        conv_case("3x3 same", 3, 2, 6, 7, 4, (3, 3), (1, 1), (1, 1)),
        conv_case("5x3, stride 2x1, padding 2x1", 2, 3, 7, 5, 2, (5, 3), (2, 1), (2, 1)),
        conv_case("2x4, stride 1x3, no padding", 2, 2, 5, 9, 3, (2, 4), (1, 3), (0, 0)),
        conv_case("1x1", 2, 3, 4, 4, 5, (1, 1), (1, 1), (0, 0)),
        bn_case("centred", 4, 3, 3, 5, 0.0),
        bn_case("large mean", 3, 2, 4, 4, 100.0),
        relu_case("4-D", 2, 3, 4, 5),
        pipeline_case("conv, batchnorm, relu", 6, 3, 5, 5, 4),
    ]
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "video_fixtures.json")
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
