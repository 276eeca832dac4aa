#!/usr/bin/python3
"""Generate nodes/testdata/layer_fixtures.json: PyTorch parity fixtures for
the sequence ops of package nodes (Conv1D, MaxPool1D, AveragePool1D,
GlobalMaxPool1D, GlobalAveragePool1D, Embedding, LayerNorm).

How to run it (from the repository root)
----------------------------------------
    /usr/bin/python3 nodes/testdata/make_layer_fixtures.py

It needs Debian's PyTorch (`apt-get install -y python3-torch`) under Debian's
own interpreter /usr/bin/python3. The output is deterministic (fixed seed,
float64) and written next to this script; an optional argument gives another
path.

What each case holds
--------------------
Every case is computed in float64 by PyTorch's own modules, one sequence at
a time on its own real steps, which is the definition the Go ops must meet
inside a padded batch:

  conv1d      nn.Conv1d(C, K, k, stride, dilation=d), with padding='same'
              (stride 1), padding=p (symmetric), or F.pad for MATLAB's
              "same" at stride > 1, "causal" (d*(k-1) zeros on the left)
              and asymmetric [left right]
  maxpool1d   nn.MaxPool1d(k, stride, padding=p), or F.pad with -inf for
              "same", "causal" and asymmetric padding
  avgpool1d   nn.AvgPool1d(k, stride, padding=p, count_include_pad=True),
              or F.pad with zeros then nn.AvgPool1d(k, stride)
  globalmax   nn.AdaptiveMaxPool1d(1) over each sequence's own length
  globalavg   nn.AdaptiveAvgPool1d(1) over each sequence's own length
  embedding   nn.Embedding(V, D, padding_idx=0), row 0 of its weight zero
  layernorm   nn.LayerNorm(C, eps=1e-5)

MATLAB's "same" padding of a sequence of L steps, stride s and window extent
e = d*(k-1)+1 is total = max((ceil(L/s)-1)*s + e - L, 0), floor(total/2)
before the sequence and the rest after it.

Layout (the Go ops' layout)
---------------------------
A batch of B sequences padded to T steps is time-major: row t*B+b of x,
(T*B) x C, is step t of sequence b. mask holds T*B values, 1 for real steps.
Sequence b's real steps are one run that starts at step 0 ("right" padding)
or ends at step T-1 ("left"). A windowed op's output is (T'*B) x K, T' the
outputs of a sequence of T steps; sequence b's L' outputs sit at output
steps 0..L'-1 (right padding) or T'-L'..T'-1 (left padding), other rows 0.
Padding rows of x hold large garbage values that the ops must never read.

Every case stores the scalar loss = sum(gy * y) and its gradients: gy is a
random tensor of y's shape (rows of padding outputs included, which must not
matter). Tensors are flat row-major lists of floats (repr, exact float64):

  x [T*B, C]   mask [T*B]   y [T'*B, K or C]   gy like y   dx like x
  conv1d:    w [K, C, k], b [K], dw, db, out_mask [T'*B], out_steps
  pools:     out_mask, out_steps (global pools: y and gy are [B, C])
  embedding: x [T*B, 1] indices, w [D, V] (column v is token v), dw;
             no dx (indices are data)
  layernorm: x [N, C], scale [C], offset [C], dscale, doffset
"""

import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
GEN = torch.Generator().manual_seed(20240611)


def randn(*shape):
    return torch.randn(*shape, generator=GEN)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def layout(lengths, steps, side):
    """Start step of each sequence and the T*B mask."""
    starts = [0 if side == "right" else steps - n for n in lengths]
    b = len(lengths)
    mask = [0.0] * (steps * b)
    for s, (st, n) in enumerate(zip(starts, lengths)):
        for j in range(n):
            mask[(st + j) * b + s] = 1.0
    return starts, mask


def batch_input(lengths, steps, side, c):
    """x [T*B, C] with garbage in the padding rows, and the sequences."""
    starts, mask = layout(lengths, steps, side)
    b = len(lengths)
    x = 1000.0 + 100.0 * randn(steps * b, c)
    seqs = []
    for s, (st, n) in enumerate(zip(starts, lengths)):
        xs = randn(n, c)
        for j in range(n):
            x[(st + j) * b + s] = xs[j]
        seqs.append(xs)
    return x, mask, seqs, starts


def matlab_same(n, stride, extent):
    total = max((math.ceil(n / stride) - 1) * stride + extent - n, 0)
    return total // 2, total - total // 2


def pads(padding, n, stride, extent):
    mode = padding["mode"]
    if mode == "same":
        return matlab_same(n, stride, extent)
    if mode == "causal":
        return extent - 1, 0
    return padding["left"], padding["right"]


def out_len(padding, n, stride, extent):
    left, right = pads(padding, n, stride, extent)
    return (n + left + right - extent) // stride + 1


def place(outs, steps_out, side, width):
    """Place each sequence's [L', width] output in the batch's layout."""
    b = len(outs)
    y = torch.zeros(steps_out * b, width)
    rows = []
    for s, o in enumerate(outs):
        n = o.shape[0]
        first = 0 if side == "right" else steps_out - n
        idx = [(first + i) * b + s for i in range(n)]
        rows.append(idx)
        y[idx] = o.detach()
    return y, rows


def scatter_dx(seq_grads, starts, steps, c):
    b = len(seq_grads)
    dx = torch.zeros(steps * b, c)
    for s, (g, st) in enumerate(zip(seq_grads, starts)):
        for j in range(g.shape[0]):
            dx[(st + j) * b + s] = g[j]
    return dx


def windowed_case(name, op, lengths, steps, side, c, padding, stride, size,
                  dilation, run, width, extra):
    """Run op one sequence at a time; run(xs [1, C, L], left, right) gives
    [1, width, L'] and extra holds the parameters to store."""
    x, mask, seqs, starts = batch_input(lengths, steps, side, c)
    extent = dilation * (size - 1) + 1
    steps_out = out_len(padding, steps, stride, extent)
    leaves, outs = [], []
    for xs in seqs:
        leaf = xs.clone().requires_grad_(True)
        left, right = pads(padding, xs.shape[0], stride, extent)
        outs.append(run(leaf.t().unsqueeze(0), left, right)[0].t())
        leaves.append(leaf)
    y, rows = place(outs, steps_out, side, width)
    gy = randn(steps_out * len(lengths), width)
    loss = sum((gy[r] * o).sum() for r, o in zip(rows, outs))
    loss.backward()
    case = {
        "name": name, "op": op, "T": steps, "B": len(lengths), "C": c,
        "lengths": lengths, "side": side, "padding": padding,
        "stride": stride, "size": size, "dilation": dilation,
        "x": flat(x), "mask": mask, "y": flat(y), "gy": flat(gy),
        "loss": float(loss), "out_steps": steps_out,
        "out_mask": layout([o.shape[0] for o in outs], steps_out, side)[1],
        "dx": flat(scatter_dx([l.grad for l in leaves], starts, steps, c)),
    }
    case.update(extra())
    return case


def conv_case(name, lengths, steps, side, c, k, size, stride, dilation, padding):
    conv = nn.Conv1d(c, k, size, stride=stride, dilation=dilation)
    with torch.no_grad():
        conv.weight.copy_(randn(k, c, size) * 0.5)
        conv.bias.copy_(randn(k) * 0.5)
    same_stride1 = padding["mode"] == "same" and stride == 1
    symmetric = padding["mode"] == "explicit" and padding["left"] == padding["right"]
    if same_stride1:
        torch_conv = nn.Conv1d(c, k, size, stride=1, dilation=dilation, padding="same")
        torch_conv.weight, torch_conv.bias = conv.weight, conv.bias
    elif symmetric:
        torch_conv = nn.Conv1d(c, k, size, stride=stride, dilation=dilation, padding=padding["left"])
        torch_conv.weight, torch_conv.bias = conv.weight, conv.bias

    def run(xs, left, right):
        if same_stride1 or symmetric:
            return torch_conv(xs)
        return conv(F.pad(xs, (left, right)))

    def extra():
        return {"K": k, "w": flat(conv.weight), "b": flat(conv.bias),
                "dw": flat(conv.weight.grad), "db": flat(conv.bias.grad)}

    return windowed_case(name, "conv1d", lengths, steps, side, c, padding,
                         stride, size, dilation, run, k, extra)


def pool_case(name, op, lengths, steps, side, c, size, stride, padding):
    symmetric = padding["mode"] == "explicit" and padding["left"] == padding["right"]
    if op == "maxpool1d":
        module = nn.MaxPool1d(size, stride, padding=padding["left"] if symmetric else 0)
        fill = -math.inf
    else:
        module = nn.AvgPool1d(size, stride, padding=padding["left"] if symmetric else 0,
                              count_include_pad=True)
        fill = 0.0

    def run(xs, left, right):
        if symmetric:
            return module(xs)
        return module(F.pad(xs, (left, right), value=fill))

    return windowed_case(name, op, lengths, steps, side, c, padding, stride,
                         size, 1, run, c, dict)


def global_case(name, op, lengths, steps, side, c):
    x, mask, seqs, starts = batch_input(lengths, steps, side, c)
    module = nn.AdaptiveMaxPool1d(1) if op == "globalmax" else nn.AdaptiveAvgPool1d(1)
    leaves = [xs.clone().requires_grad_(True) for xs in seqs]
    y = torch.stack([module(l.t().unsqueeze(0))[0, :, 0] for l in leaves])
    gy = randn(len(lengths), c)
    loss = (gy * y).sum()
    loss.backward()
    return {
        "name": name, "op": op, "T": steps, "B": len(lengths), "C": c,
        "lengths": lengths, "side": side, "x": flat(x), "mask": mask,
        "y": flat(y), "gy": flat(gy), "loss": float(loss),
        "dx": flat(scatter_dx([l.grad for l in leaves], starts, steps, c)),
    }


def embedding_case(name, lengths, steps, side, dim, vocab):
    starts, mask = layout(lengths, steps, side)
    b = len(lengths)
    idx = torch.zeros(steps * b, dtype=torch.long)
    for s, (st, n) in enumerate(zip(starts, lengths)):
        tokens = torch.randint(1, vocab, (n,), generator=GEN)
        tokens[n // 2] = 0  # a real step may hold the padding index too
        idx[[(st + j) * b + s for j in range(n)]] = tokens
    emb = nn.Embedding(vocab, dim, padding_idx=0)
    with torch.no_grad():
        emb.weight.copy_(randn(vocab, dim))
        emb.weight[0].zero_()
    y = emb(idx)
    gy = randn(steps * b, dim)
    loss = (gy * y).sum()
    loss.backward()
    return {
        "name": name, "op": "embedding", "T": steps, "B": b, "D": dim,
        "V": vocab, "lengths": lengths, "side": side, "mask": mask,
        "x": [float(v) for v in idx.tolist()], "w": flat(emb.weight.t()),
        "y": flat(y), "gy": flat(gy), "loss": float(loss),
        "dw": flat(emb.weight.grad.t()),
    }


def layernorm_case(name, n, c):
    x = randn(n, c) * 2 + 0.5
    x[1] = 0.0   # a padding row of zeros
    x[2] = 3.25  # a constant row
    x.requires_grad_(True)
    ln = nn.LayerNorm(c, eps=1e-5)
    with torch.no_grad():
        ln.weight.copy_(randn(c))
        ln.bias.copy_(randn(c))
    y = ln(x)
    gy = randn(n, c)
    loss = (gy * y).sum()
    loss.backward()
    return {
        "name": name, "op": "layernorm", "N": n, "C": c,
        "x": flat(x), "scale": flat(ln.weight), "offset": flat(ln.bias),
        "y": flat(y), "gy": flat(gy), "loss": float(loss), "dx": flat(x.grad),
        "dscale": flat(ln.weight.grad), "doffset": flat(ln.bias.grad),
    }


def explicit(left, right):
    return {"mode": "explicit", "left": left, "right": right}


SAME = {"mode": "same", "left": 0, "right": 0}
CAUSAL = {"mode": "causal", "left": 0, "right": 0}


def cases():
    return [
        conv_case("conv explicit [1 2] stride 2 dilation 2, right", [9, 5, 7], 9, "right", 3, 4, 3, 2, 2, explicit(1, 2)),
        conv_case("conv explicit [1 1] stride 1, left", [6, 3, 4], 6, "left", 2, 3, 3, 1, 1, explicit(1, 1)),
        conv_case("conv same stride 1 even filter, left", [8, 4, 6], 8, "left", 3, 2, 4, 1, 1, SAME),
        conv_case("conv same stride 1 dilation 2, right", [7, 2, 5], 7, "right", 2, 3, 3, 1, 2, SAME),
        conv_case("conv same stride 2, right", [8, 5, 3, 6], 8, "right", 2, 3, 3, 2, 1, SAME),
        conv_case("conv same stride 3 filter 2, left", [10, 4, 7], 10, "left", 2, 2, 2, 3, 1, SAME),
        conv_case("conv causal dilation 2, left", [7, 3, 5], 7, "left", 3, 2, 3, 1, 2, CAUSAL),
        conv_case("conv causal stride 2, right", [9, 4, 6], 9, "right", 2, 3, 2, 2, 1, CAUSAL),
        conv_case("conv no padding, full length", [6, 6], 6, "right", 2, 2, 3, 1, 1, explicit(0, 0)),
        pool_case("max same stride 1, right", "maxpool1d", [8, 3, 5], 8, "right", 3, 3, 1, SAME),
        pool_case("max [1 1] stride 2, left", "maxpool1d", [9, 4, 6], 9, "left", 2, 3, 2, explicit(1, 1)),
        pool_case("max no padding stride 2, right", "maxpool1d", [8, 2, 5], 8, "right", 2, 2, 2, explicit(0, 0)),
        pool_case("max causal, left", "maxpool1d", [6, 2, 4], 6, "left", 2, 2, 1, CAUSAL),
        pool_case("max same stride 2 even pool, left", "maxpool1d", [9, 5, 2], 9, "left", 2, 4, 2, SAME),
        pool_case("avg same stride 2 even pool, left", "avgpool1d", [9, 5, 2], 9, "left", 2, 4, 2, SAME),
        pool_case("avg [1 1] stride 1, right", "avgpool1d", [7, 3, 5], 7, "right", 2, 3, 1, explicit(1, 1)),
        pool_case("avg [0 2] stride 2, right", "avgpool1d", [8, 4, 1], 8, "right", 3, 3, 2, explicit(0, 2)),
        pool_case("avg causal stride 2, left", "avgpool1d", [7, 3, 6], 7, "left", 2, 3, 2, CAUSAL),
        global_case("global max, right", "globalmax", [6, 2, 4], 6, "right", 3),
        global_case("global max, left", "globalmax", [5, 1, 3], 5, "left", 2),
        global_case("global avg, right", "globalavg", [6, 2, 4], 6, "right", 3),
        global_case("global avg, left", "globalavg", [5, 1, 3], 5, "left", 2),
        embedding_case("embedding, right", [5, 2, 4], 5, "right", 3, 7),
        embedding_case("embedding, left", [4, 3], 4, "left", 2, 5),
        layernorm_case("layer norm", 5, 4),
        layernorm_case("layer norm, one channel", 3, 1),
    ]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "layer_fixtures.json")
    doc = {
        "format": "seqgraph nodes sequence-op fixtures v1",
        "generator": "nodes/testdata/make_layer_fixtures.py",
        "torch_version": torch.__version__,
        "cases": cases(),
    }
    with open(out, "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print("wrote", out, len(doc["cases"]), "cases")


if __name__ == "__main__":
    main()
