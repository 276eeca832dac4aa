#!/usr/bin/python3
"""Generate rnn/testdata/lstm_fixtures.json: LSTM parity fixtures from PyTorch.

What it makes
-------------
A JSON file with a few single-layer LSTM cases, computed by PyTorch's
nn.LSTM in float64: the forward outputs and the gradients of a scalar loss
with respect to every input and parameter. seqgraph's Go tests load it to
check its LSTM graph against PyTorch.

How to run it (from the repository root)
----------------------------------------
    /usr/bin/python3 rnn/testdata/make_lstm_fixtures.py

It needs PyTorch from Debian (`apt-get install -y python3-torch`), run with
Debian's own interpreter /usr/bin/python3 (a pyenv or other python3 earlier on
PATH has no torch). numpy is not used. The output is deterministic (fixed
seeds, float64); it is written next to this script whatever the working
directory. An optional argument gives another output path.

Conventions (MATLAB naming, PyTorch layout)
-------------------------------------------
Gate order is i, f, g, o (input, forget, cell candidate, output) in both
MATLAB's lstmLayer and PyTorch, so

    W = weight_ih_l0            shape [4H, F]   (MATLAB InputWeights)
    R = weight_hh_l0            shape [4H, H]   (MATLAB RecurrentWeights)
    b = bias_ih_l0 + bias_hh_l0 shape [4H]      (MATLAB Bias)

Rows [0:H] of W, R, b belong to gate i, [H:2H] to f, [2H:3H] to g and
[3H:4H] to o. For each step t, with x_t [B, F] and h, c [B, H]:

    z   = x_t W^T + h R^T + b            [B, 4H]
    i   = sigmoid(z[:, 0:H])
    f   = sigmoid(z[:, H:2H])
    g   = tanh(z[:, 2H:3H])
    o   = sigmoid(z[:, 3H:4H])
    c   = f * c + i * g
    h   = o * tanh(c)
    y_t = h

The bias b is split at random into bias_ih and bias_hh before it is set into
nn.LSTM, to show that only the sum matters; db is the gradient of the loss
with respect to that sum (the gradient of bias_ih, which equals that of
bias_hh up to float64 round-off).

Weights and biases are drawn from uniform(-s, s) (s = 0.5, or 1.5 in the
saturating case), not PyTorch's default init, so values are O(1). x, h0 and
c0 are standard normal * 0.5 (h0 = c0 = 0 in the zero-state case).

The scalar loss touches every output with non-trivial weights:

    loss = sum(y * gy) + sum(hT * gh) + sum(cT * gc)

where gy, gh, gc are standard normal tensors stored in the file, so gy, gh
and gc are exactly the upstream gradients dloss/dy, dloss/dhT, dloss/dcT.

File format
-----------
Top level: {"format": str, "generator": str, "torch_version": str,
            "cases": [case, ...]}.
Each case has "name" (str), "F", "H", "B", "T" (int), "weight_scale"
(float), "zero_state" (bool) and these tensors, each stored as a FLAT list of
float64 in row-major (C) order of the shape given:

    W   [4H, F]      R   [4H, H]      b   [4H]
    x   [B, T, F]    h0  [B, H]       c0  [B, H]
    y   [B, T, H]    hT  [B, H]       cT  [B, H]
    gy  [B, T, H]    gh  [B, H]       gc  [B, H]
    loss (a single float, not a list)
    dW  [4H, F]      dR  [4H, H]      db  [4H]
    dx  [B, T, F]    dh0 [B, H]       dc0 [B, H]

x and y are batch-major (batch_first=True): element (b, t, k) of x is at
index (b*T + t)*F + k. Floats are written with Python's repr, which round-trips
float64 exactly.
"""

import json
import os
import sys

import torch

FORMAT = (
    "Single-layer LSTM fixtures from PyTorch nn.LSTM(F, H, batch_first=True), "
    "float64. Gate order i,f,g,o. Every tensor is a flat list in row-major order "
    "of its shape: W=weight_ih_l0 [4H,F], R=weight_hh_l0 [4H,H], "
    "b=bias_ih_l0+bias_hh_l0 [4H], x [B,T,F], h0 [B,H], c0 [B,H], "
    "y=output [B,T,H], hT=h_n[0] [B,H], cT=c_n[0] [B,H], gy [B,T,H], gh [B,H], "
    "gc [B,H]; loss=sum(y*gy)+sum(hT*gh)+sum(cT*gc) (scalar); gradients of loss: "
    "dW [4H,F], dR [4H,H], db [4H] (w.r.t. the summed bias), dx [B,T,F], "
    "dh0 [B,H], dc0 [B,H]."
)

# (name, F, H, B, T, weight scale, zero initial state, seed)
CASES = [
    ("F3_H4_B3_T5", 3, 4, 3, 5, 0.5, False, 1001),
    ("F2_H3_B1_T7_zero_state", 2, 3, 1, 7, 0.5, True, 1002),
    ("F5_H2_B4_T1", 5, 2, 4, 1, 0.5, False, 1003),
    ("F4_H5_B2_T6_saturating", 4, 5, 2, 6, 1.5, False, 1004),
]


def uniform(shape, s, gen):
    return (torch.rand(shape, generator=gen) * 2.0 - 1.0) * s


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def reference_forward(W, R, b, x, h0, c0):
    """Plain re-implementation of the equations in the docstring."""
    H = R.shape[1]
    h, c = h0, c0
    ys = []
    for t in range(x.shape[1]):
        z = x[:, t, :] @ W.T + h @ R.T + b
        i = torch.sigmoid(z[:, 0:H])
        f = torch.sigmoid(z[:, H:2 * H])
        g = torch.tanh(z[:, 2 * H:3 * H])
        o = torch.sigmoid(z[:, 3 * H:4 * H])
        c = f * c + i * g
        h = o * torch.tanh(c)
        ys.append(h)
    return torch.stack(ys, dim=1), h, c


def make_case(name, F, H, B, T, scale, zero_state, seed):
    gen = torch.Generator().manual_seed(seed)

    W = uniform((4 * H, F), scale, gen)
    R = uniform((4 * H, H), scale, gen)
    b = uniform((4 * H,), scale, gen)
    # Random split of b into the two PyTorch biases: only the sum matters.
    b_ih = uniform((4 * H,), scale, gen)
    b_hh = b - b_ih

    x = torch.randn((B, T, F), generator=gen) * 0.5
    if zero_state:
        h0 = torch.zeros((B, H))
        c0 = torch.zeros((B, H))
    else:
        h0 = torch.randn((B, H), generator=gen) * 0.5
        c0 = torch.randn((B, H), generator=gen) * 0.5

    gy = torch.randn((B, T, H), generator=gen)
    gh = torch.randn((B, H), generator=gen)
    gc = torch.randn((B, H), generator=gen)

    lstm = torch.nn.LSTM(F, H, num_layers=1, bias=True, batch_first=True)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(W)
        lstm.weight_hh_l0.copy_(R)
        lstm.bias_ih_l0.copy_(b_ih)
        lstm.bias_hh_l0.copy_(b_hh)

    xg = x.clone().requires_grad_(True)
    h0g = h0.clone().requires_grad_(True)
    c0g = c0.clone().requires_grad_(True)

    y, (hn, cn) = lstm(xg, (h0g.unsqueeze(0), c0g.unsqueeze(0)))
    hT, cT = hn.squeeze(0), cn.squeeze(0)
    loss = (y * gy).sum() + (hT * gh).sum() + (cT * gc).sum()
    loss.backward()

    # Self-checks: the layout/equations documented above really are PyTorch's.
    yr, hr, cr = reference_forward(W, R, b, x, h0, c0)
    for got, want, what in ((y, yr, "y"), (hT, hr, "hT"), (cT, cr, "cT")):
        err = (got.detach() - want).abs().max().item()
        assert err < 1e-12, f"{name}: {what} differs from reference by {err}"
    err = (lstm.bias_ih_l0.grad - lstm.bias_hh_l0.grad).abs().max().item()
    assert err < 1e-12, f"{name}: bias_ih and bias_hh grads differ by {err}"

    def ref_loss(W_, R_, b_, x_, h0_, c0_):
        y_, h_, c_ = reference_forward(W_, R_, b_, x_, h0_, c0_)
        return (y_ * gy).sum() + (h_ * gh).sum() + (c_ * gc).sum()

    ins = [t.clone().requires_grad_(True) for t in (W, R, b, x, h0, c0)]
    ref_grads = torch.autograd.grad(ref_loss(*ins), ins)
    got_grads = (lstm.weight_ih_l0.grad, lstm.weight_hh_l0.grad,
                 lstm.bias_ih_l0.grad, xg.grad, h0g.grad, c0g.grad)
    for g_got, g_ref, what in zip(got_grads, ref_grads,
                                  ("dW", "dR", "db", "dx", "dh0", "dc0")):
        err = (g_got - g_ref).abs().max().item()
        assert err < 1e-12, f"{name}: {what} differs from reference by {err}"
    assert torch.autograd.gradcheck(ref_loss, tuple(ins)), name

    return {
        "name": name,
        "F": F,
        "H": H,
        "B": B,
        "T": T,
        "weight_scale": scale,
        "zero_state": zero_state,
        "W": flat(W),
        "R": flat(R),
        "b": flat(b),
        "x": flat(x),
        "h0": flat(h0),
        "c0": flat(c0),
        "y": flat(y),
        "hT": flat(hT),
        "cT": flat(cT),
        "gy": flat(gy),
        "gh": flat(gh),
        "gc": flat(gc),
        "loss": float(loss.item()),
        "dW": flat(lstm.weight_ih_l0.grad),
        "dR": flat(lstm.weight_hh_l0.grad),
        "db": flat(lstm.bias_ih_l0.grad),
        "dx": flat(xg.grad),
        "dh0": flat(h0g.grad),
        "dc0": flat(c0g.grad),
    }


def write(path, doc):
    """JSON with one field per line, so that diffs stay readable."""
    with open(path, "w") as f:
        f.write("{\n")
        f.write(f' "format": {json.dumps(doc["format"])},\n')
        f.write(f' "generator": {json.dumps(doc["generator"])},\n')
        f.write(f' "torch_version": {json.dumps(doc["torch_version"])},\n')
        f.write(' "cases": [\n')
        for ci, case in enumerate(doc["cases"]):
            f.write("  {\n")
            items = list(case.items())
            for ki, (k, v) in enumerate(items):
                sep = "," if ki + 1 < len(items) else ""
                f.write(f"   {json.dumps(k)}: {json.dumps(v)}{sep}\n")
            f.write("  }" + ("," if ci + 1 < len(doc["cases"]) else "") + "\n")
        f.write(" ]\n}\n")
    # The file must be plain JSON that round-trips exactly.
    with open(path) as f:
        assert json.load(f) == doc


def main():
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "lstm_fixtures.json")

    doc = {
        "format": FORMAT,
        "generator": "rnn/testdata/make_lstm_fixtures.py",
        "torch_version": torch.__version__,
        "cases": [make_case(*c) for c in CASES],
    }
    write(out, doc)
    print(f"wrote {len(doc['cases'])} cases to {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
