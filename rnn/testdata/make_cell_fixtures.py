#!/usr/bin/python3
"""Generate rnn/testdata/cell_fixtures.json: GRU, RNN, BiLSTM and 2-layer LSTM
parity fixtures from PyTorch.

What it makes
-------------
A JSON file with four sections of cases, computed by PyTorch in float64: the
forward outputs and the gradients of a scalar loss with respect to every input
and parameter. seqgraph's Go tests load it to check its graphs against
PyTorch. It is the companion of make_lstm_fixtures.py (single-layer LSTM) and
follows the same conventions.

How to run it (from the repository root)
----------------------------------------
    /usr/bin/python3 rnn/testdata/make_cell_fixtures.py

It needs PyTorch from Debian (`apt-get install -y python3-torch`), run with
Debian's own interpreter /usr/bin/python3 (a pyenv or other python3 earlier on
PATH has no torch). numpy is not used. The output is deterministic (fixed
seeds, float64, one thread); it is written next to this script whatever the
working directory. An optional argument gives another output path.

Common conventions
------------------
MATLAB names, PyTorch layout. Every tensor is stored as a FLAT list of float64
in row-major (C) order of the shape given. x and y are batch-major
(batch_first=True): element (b, t, k) of x [B, T, F] is at index
(b*T + t)*F + k. Stacked states [L, B, H] (L = layers or directions) are
layer/direction-major: element (l, b, j) is at (l*B + b)*H + j. Floats are
written with Python's repr, which round-trips float64 exactly.

Weights and biases are drawn from uniform(-s, s) (s = "weight_scale", 0.5 or
1.5), not PyTorch's default init, so values are O(1). x, h0 and c0 are
standard normal * 0.5 (zeros when "zero_state" is true). The loss weights gy,
gh, gc are standard normal and stored in the file, so they are exactly the
upstream gradients dloss/dy, dloss/dhT, dloss/dcT.

Where a bias is stored as a sum b = bias_ih + bias_hh (rnn, bilstm, lstm2),
b is split at random into bias_ih and bias_hh before it is set into the
module, to show that only the sum matters; db is the gradient of the loss
with respect to that sum (the gradient of bias_ih, which equals that of
bias_hh up to float64 round-off; the script checks that).

Every case of every section has "name" (str), "F", "H", "B", "T" (int) and
"weight_scale" (float).

Section "gru": nn.GRU(F, H, batch_first=True)
---------------------------------------------
Gate order r, z, n (reset, update, candidate), PyTorch's and MATLAB's:

    W  = weight_ih_l0   [3H, F]   (MATLAB InputWeights)
    R  = weight_hh_l0   [3H, H]   (MATLAB RecurrentWeights)
    b  = bias_ih_l0     [3H]      (MATLAB Bias)
    bR = bias_hh_l0     [3H]      (MATLAB RecurrentBias)

b and bR are kept SEPARATE because the reset gate multiplies only the
recurrent part of the candidate (MATLAB's ResetGateMode
"after-multiplication"). Rows [0:H] belong to r, [H:2H] to z, [2H:3H] to n.
For each step t, with x_t [B, F] and h [B, H]:

    a = x_t W^T + b                 [B, 3H]
    u = h R^T + bR                  [B, 3H]
    r = sigmoid(a[:, 0:H]   + u[:, 0:H])
    z = sigmoid(a[:, H:2H]  + u[:, H:2H])
    n = tanh(a[:, 2H:3H] + r * u[:, 2H:3H])
    h = (1 - z) * n + z * h
    y_t = h

Case fields: "zero_state" (bool) and

    W  [3H, F]     R  [3H, H]     b  [3H]     bR [3H]
    x  [B, T, F]   h0 [B, H]
    y  [B, T, H]   hT [B, H]
    gy [B, T, H]   gh [B, H]
    loss = sum(y * gy) + sum(hT * gh)   (a single float)
    dW [3H, F]     dR [3H, H]     db [3H]     dbR [3H]
    dx [B, T, F]   dh0 [B, H]

(db and dbR agree on the r and z rows and differ on the n rows.)

Section "rnn": nn.RNN(F, H, nonlinearity=..., batch_first=True)
--------------------------------------------------------------
"nonlinearity" is "tanh" or "relu" (act below).

    W = weight_ih_l0            [H, F]
    R = weight_hh_l0            [H, H]
    b = bias_ih_l0 + bias_hh_l0 [H]

    h = act(x_t W^T + h R^T + b);  y_t = h

Case fields: "nonlinearity", "zero_state" and

    W  [H, F]      R  [H, H]      b  [H]
    x  [B, T, F]   h0 [B, H]
    y  [B, T, H]   hT [B, H]
    gy [B, T, H]   gh [B, H]
    loss = sum(y * gy) + sum(hT * gh)
    dW [H, F]      dR [H, H]      db [H]
    dx [B, T, F]   dh0 [B, H]

For relu cases the script asserts that no pre-activation is within 1e-6 of
zero, so the fixture does not sit on the kink, and that some but not all
pre-activations are negative.

Section "bilstm": nn.LSTM(F, H, bidirectional=True, batch_first=True)
-------------------------------------------------------------------
Variable-length sequences, right-padded. Gate order i, f, g, o and the step
equations are those of make_lstm_fixtures.py. Forward direction:

    W  = weight_ih_l0                            [4H, F]
    R  = weight_hh_l0                            [4H, H]
    b  = bias_ih_l0 + bias_hh_l0                 [4H]

backward direction:

    Wb = weight_ih_l0_reverse                    [4H, F]
    Rb = weight_hh_l0_reverse                    [4H, H]
    bb = bias_ih_l0_reverse + bias_hh_l0_reverse [4H]

Sequence b has lengths[b] real steps t = 0 .. lengths[b]-1; positions
t >= lengths[b] of x hold the fixed value "padding_value" (0.7) in every
feature. Initial states are zero. The module is run on
pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False) and
the output unpacked with pad_packed_sequence(..., padding_value=0,
total_length=T). So, per sequence b with L = lengths[b]:

    forward:  run the LSTM over x[b, 0], ..., x[b, L-1]   from zero state
    backward: run it (Wb, Rb, bb) over x[b, L-1], ..., x[b, 0] from zero state
    y[b, t, 0:H]  = forward output at step t         (t < L)
    y[b, t, H:2H] = backward output at step t        (t < L; produced after
                    reading x[b, L-1] down to x[b, t])
    y[b, t, :]    = 0                                (t >= L)
    hT[0, b] / cT[0, b] = forward state after step L-1
    hT[1, b] / cT[1, b] = backward state after step 0 (its last step)

Case fields: "lengths" (list of B ints, in the original batch order, not
sorted), "padding" ("right"), "padding_value" (float) and

    W  [4H, F]     R  [4H, H]     b  [4H]
    Wb [4H, F]     Rb [4H, H]     bb [4H]
    x  [B, T, F]
    y  [B, T, 2H]  hT [2, B, H]   cT [2, B, H]
    gy [B, T, 2H]  gh [2, B, H]   gc [2, B, H]
    loss = sum(y * gy) + sum(hT * gh) + sum(cT * gc)
    dW [4H, F]     dR [4H, H]     db [4H]
    dWb [4H, F]    dRb [4H, H]    dbb [4H]
    dx [B, T, F]

gy is zero at padded positions (t >= lengths[b]), so the loss sums over real
steps only; dx is zero at padded positions (the script checks that).

Section "lstm2": nn.LSTM(F, H, num_layers=2, dropout=0, batch_first=True)
------------------------------------------------------------------------
Layer 1 reads x, layer 2 reads layer 1's output sequence; y is layer 2's.

    W1 = weight_ih_l0 [4H, F]   R1 = weight_hh_l0 [4H, H]   b1 [4H] (summed)
    W2 = weight_ih_l1 [4H, H]   R2 = weight_hh_l1 [4H, H]   b2 [4H] (summed)

Case fields: "zero_state" and

    W1 [4H, F]     R1 [4H, H]     b1 [4H]
    W2 [4H, H]     R2 [4H, H]     b2 [4H]
    x  [B, T, F]   h0 [2, B, H]   c0 [2, B, H]     (index 0 = layer 1)
    y  [B, T, H]   hT [2, B, H]   cT [2, B, H]
    gy [B, T, H]   gh [2, B, H]   gc [2, B, H]
    loss = sum(y * gy) + sum(hT * gh) + sum(cT * gc)
    dW1 [4H, F]    dR1 [4H, H]    db1 [4H]
    dW2 [4H, H]    dR2 [4H, H]    db2 [4H]
    dx [B, T, F]   dh0 [2, B, H]  dc0 [2, B, H]

File format
-----------
Top level: {"format": str, "generator": str, "torch_version": str,
            "gru": [case, ...], "rnn": [case, ...],
            "bilstm": [case, ...], "lstm2": [case, ...]}.
"""

import json
import os
import sys

import torch

FORMAT = (
    "Recurrent-layer fixtures from PyTorch, float64, batch_first=True. Every "
    "tensor is a flat list in row-major order of its shape; stacked states "
    "[L,B,H] are layer/direction-major. loss is a scalar; d* are gradients of "
    "loss. "
    "gru: nn.GRU(F,H), gate order r,z,n; W=weight_ih_l0 [3H,F], "
    "R=weight_hh_l0 [3H,H], b=bias_ih_l0 [3H], bR=bias_hh_l0 [3H] (separate, "
    "n = tanh(x W_n^T + b_n + r*(h R_n^T + bR_n))), x [B,T,F], h0 [B,H], "
    "y [B,T,H], hT [B,H], gy [B,T,H], gh [B,H], loss=sum(y*gy)+sum(hT*gh), "
    "dW [3H,F], dR [3H,H], db [3H], dbR [3H], dx [B,T,F], dh0 [B,H]. "
    "rnn: nn.RNN(F,H,nonlinearity) with nonlinearity \"tanh\"|\"relu\"; "
    "W=weight_ih_l0 [H,F], R=weight_hh_l0 [H,H], b=bias_ih_l0+bias_hh_l0 [H], "
    "x [B,T,F], h0 [B,H], y [B,T,H], hT [B,H], gy [B,T,H], gh [B,H], "
    "loss=sum(y*gy)+sum(hT*gh), dW [H,F], dR [H,H], db [H], dx [B,T,F], "
    "dh0 [B,H]. "
    "bilstm: nn.LSTM(F,H,bidirectional=True), gate order i,f,g,o, run on "
    "pack_padded_sequence(x,lengths,enforce_sorted=False) and unpacked with "
    "padding_value=0, zero initial states; lengths [B] ints (batch order), "
    "padding \"right\", x [B,T,F] holds padding_value at t>=lengths[b]; "
    "forward W=weight_ih_l0 [4H,F], R=weight_hh_l0 [4H,H], b=bias_ih_l0+"
    "bias_hh_l0 [4H]; backward Wb, Rb, bb likewise from the *_reverse "
    "parameters; y [B,T,2H] (forward features then backward, 0 at padded "
    "steps), hT [2,B,H] and cT [2,B,H] (index 0 forward: state after step "
    "lengths[b]-1; index 1 backward: state after step 0), gy [B,T,2H] (0 at "
    "padded steps), gh [2,B,H], gc [2,B,H], loss=sum(y*gy)+sum(hT*gh)+"
    "sum(cT*gc), dW [4H,F], dR [4H,H], db [4H], dWb [4H,F], dRb [4H,H], "
    "dbb [4H], dx [B,T,F] (0 at padded steps). "
    "lstm2: nn.LSTM(F,H,num_layers=2,dropout=0), gate order i,f,g,o; "
    "W1=weight_ih_l0 [4H,F], R1=weight_hh_l0 [4H,H], b1=bias_ih_l0+bias_hh_l0 "
    "[4H], W2=weight_ih_l1 [4H,H], R2=weight_hh_l1 [4H,H], b2=bias_ih_l1+"
    "bias_hh_l1 [4H]; x [B,T,F], h0 [2,B,H], c0 [2,B,H] (index 0 = layer 1), "
    "y [B,T,H] (top layer), hT [2,B,H], cT [2,B,H], gy [B,T,H], gh [2,B,H], "
    "gc [2,B,H], loss=sum(y*gy)+sum(hT*gh)+sum(cT*gc), dW1 [4H,F], "
    "dR1 [4H,H], db1 [4H], dW2 [4H,H], dR2 [4H,H], db2 [4H], dx [B,T,F], "
    "dh0 [2,B,H], dc0 [2,B,H]."
)

# (name, F, H, B, T, weight scale, zero initial state, seed)
GRU_CASES = [
    ("F3_H4_B3_T5", 3, 4, 3, 5, 0.5, False, 2001),
    ("F2_H3_B1_T6_zero_state", 2, 3, 1, 6, 0.5, True, 2002),
    ("F4_H2_B2_T4_saturating", 4, 2, 2, 4, 1.5, False, 2003),
]

# (name, nonlinearity, F, H, B, T, weight scale, zero initial state, seed)
RNN_CASES = [
    ("tanh_F3_H4_B3_T5", "tanh", 3, 4, 3, 5, 0.5, False, 3001),
    ("relu_F3_H4_B2_T6", "relu", 3, 4, 2, 6, 0.5, False, 3002),
    ("relu_F2_H3_B1_T4_zero_state", "relu", 2, 3, 1, 4, 0.5, True, 3003),
]

PADDING_VALUE = 0.7

# (name, F, H, B, T, lengths, weight scale, seed)
BILSTM_CASES = [
    ("F3_H2_B3_T5_len5_3_4", 3, 2, 3, 5, [5, 3, 4], 0.5, 4001),
    ("F2_H3_B2_T4_len2_4", 2, 3, 2, 4, [2, 4], 0.5, 4002),
]

# (name, F, H, B, T, weight scale, zero initial state, seed)
LSTM2_CASES = [
    ("F3_H4_B2_T5", 3, 4, 2, 5, 0.5, False, 5001),
    ("F2_H3_B3_T3", 2, 3, 3, 3, 0.5, False, 5002),
]

TOL = 1e-12


def uniform(shape, s, gen):
    return (torch.rand(shape, generator=gen) * 2.0 - 1.0) * s


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def check_close(got, want, what):
    err = (got.detach() - want.detach()).abs().max().item()
    assert err < TOL, f"{what} differs from reference by {err}"


def split_bias(b, scale, gen):
    """Random split b = b_ih + b_hh; only the sum matters."""
    b_ih = uniform(b.shape, scale, gen)
    return b_ih, b - b_ih


def module_call(module, params, *args):
    """Call an nn.RNNBase module with its parameters replaced by `params`
    (tensors that may require grad), in _flat_weights_names order.

    torch 1.13's functional_call does not reach RNN modules (they read the
    private list _flat_weights), so it is set directly here. Only used for
    gradcheck through PyTorch's own RNN kernels; the callers check that it
    gives the module's result at the fixture point.
    """
    saved = module._flat_weights
    module._flat_weights = list(params)
    try:
        return module(*args)
    finally:
        module._flat_weights = saved


def gradcheck(fn, inputs, what):
    ins = tuple(t.detach().clone().requires_grad_(True) for t in inputs)
    assert torch.autograd.gradcheck(fn, ins), what


# ----------------------------------------------------------------- references

def gru_reference(W, R, b, bR, x, h0):
    H = R.shape[1]
    h = h0
    ys = []
    for t in range(x.shape[1]):
        a = x[:, t, :] @ W.T + b
        u = h @ R.T + bR
        r = torch.sigmoid(a[:, 0:H] + u[:, 0:H])
        z = torch.sigmoid(a[:, H:2 * H] + u[:, H:2 * H])
        n = torch.tanh(a[:, 2 * H:3 * H] + r * u[:, 2 * H:3 * H])
        h = (1 - z) * n + z * h
        ys.append(h)
    return torch.stack(ys, dim=1), h


def rnn_preactivations(W, R, b, x, h0, act):
    h = h0
    ys, pre = [], []
    for t in range(x.shape[1]):
        p = x[:, t, :] @ W.T + h @ R.T + b
        h = act(p)
        pre.append(p)
        ys.append(h)
    return torch.stack(ys, dim=1), h, torch.stack(pre, dim=1)


def rnn_reference(W, R, b, x, h0, act):
    y, h, _ = rnn_preactivations(W, R, b, x, h0, act)
    return y, h


def lstm_reference(W, R, b, x, h0, c0):
    """The single-layer LSTM equations of make_lstm_fixtures.py."""
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


def bilstm_reference(W, R, b, Wb, Rb, bb, x, lengths):
    """Per sequence: forward over its real steps, backward over the same
    steps reversed; padded outputs are zero."""
    B, T, _ = x.shape
    H = R.shape[1]
    ys, hf, cf, hb, cb = [], [], [], [], []
    for k in range(B):
        L = lengths[k]
        xs = x[k:k + 1, :L, :]
        zero = torch.zeros((1, H))
        y1, h1, c1 = lstm_reference(W, R, b, xs, zero, zero)
        y2, h2, c2 = lstm_reference(Wb, Rb, bb, xs.flip(1), zero, zero)
        yk = torch.cat([y1, y2.flip(1)], dim=2)
        yk = torch.cat([yk, torch.zeros((1, T - L, 2 * H))], dim=1)
        ys.append(yk)
        hf.append(h1)
        cf.append(c1)
        hb.append(h2)
        cb.append(c2)
    y = torch.cat(ys, dim=0)
    hT = torch.stack([torch.cat(hf, 0), torch.cat(hb, 0)], dim=0)
    cT = torch.stack([torch.cat(cf, 0), torch.cat(cb, 0)], dim=0)
    return y, hT, cT


def lstm2_reference(W1, R1, b1, W2, R2, b2, x, h0, c0):
    y1, h1, c1 = lstm_reference(W1, R1, b1, x, h0[0], c0[0])
    y2, h2, c2 = lstm_reference(W2, R2, b2, y1, h0[1], c0[1])
    return y2, torch.stack([h1, h2]), torch.stack([c1, c2])


# ---------------------------------------------------------------------- GRU

def make_gru_case(name, F, H, B, T, scale, zero_state, seed):
    gen = torch.Generator().manual_seed(seed)
    W = uniform((3 * H, F), scale, gen)
    R = uniform((3 * H, H), scale, gen)
    b = uniform((3 * H,), scale, gen)
    bR = uniform((3 * H,), scale, gen)
    x = torch.randn((B, T, F), generator=gen) * 0.5
    if zero_state:
        h0 = torch.zeros((B, H))
    else:
        h0 = torch.randn((B, H), generator=gen) * 0.5
    gy = torch.randn((B, T, H), generator=gen)
    gh = torch.randn((B, H), generator=gen)

    gru = torch.nn.GRU(F, H, num_layers=1, bias=True, batch_first=True)
    with torch.no_grad():
        gru.weight_ih_l0.copy_(W)
        gru.weight_hh_l0.copy_(R)
        gru.bias_ih_l0.copy_(b)
        gru.bias_hh_l0.copy_(bR)

    xg = x.clone().requires_grad_(True)
    h0g = h0.clone().requires_grad_(True)
    y, hn = gru(xg, h0g.unsqueeze(0))
    hT = hn.squeeze(0)
    loss = (y * gy).sum() + (hT * gh).sum()
    loss.backward()
    got = (gru.weight_ih_l0.grad, gru.weight_hh_l0.grad, gru.bias_ih_l0.grad,
           gru.bias_hh_l0.grad, xg.grad, h0g.grad)

    # Self-checks against the documented equations.
    yr, hr = gru_reference(W, R, b, bR, x, h0)
    check_close(y, yr, f"gru {name}: y")
    check_close(hT, hr, f"gru {name}: hT")

    def ref_loss(W_, R_, b_, bR_, x_, h0_):
        y_, h_ = gru_reference(W_, R_, b_, bR_, x_, h0_)
        return (y_ * gy).sum() + (h_ * gh).sum()

    ins = [t.clone().requires_grad_(True) for t in (W, R, b, bR, x, h0)]
    ref = torch.autograd.grad(ref_loss(*ins), ins)
    for g_got, g_ref, what in zip(got, ref, ("dW", "dR", "db", "dbR", "dx", "dh0")):
        check_close(g_got, g_ref, f"gru {name}: {what}")
    # r and z rows of the two bias gradients agree; the n rows must not
    # (else the fixture would not tell b and bR apart).
    check_close(got[2][:2 * H], got[3][:2 * H], f"gru {name}: db vs dbR (r,z)")
    assert (got[2][2 * H:] - got[3][2 * H:]).abs().max().item() > 1e-3, name

    # gradcheck through PyTorch's own GRU kernel.
    def torch_loss(W_, R_, b_, bR_, x_, h0_):
        y_, hn_ = module_call(gru, (W_, R_, b_, bR_), x_, h0_.unsqueeze(0))
        return (y_ * gy).sum() + (hn_.squeeze(0) * gh).sum()

    check_close(torch_loss(W, R, b, bR, x, h0), loss, f"gru {name}: module_call")
    gradcheck(torch_loss, (W, R, b, bR, x, h0), f"gru {name}")

    return {
        "name": name, "F": F, "H": H, "B": B, "T": T,
        "weight_scale": scale, "zero_state": zero_state,
        "W": flat(W), "R": flat(R), "b": flat(b), "bR": flat(bR),
        "x": flat(x), "h0": flat(h0),
        "y": flat(y), "hT": flat(hT),
        "gy": flat(gy), "gh": flat(gh),
        "loss": float(loss.item()),
        "dW": flat(got[0]), "dR": flat(got[1]), "db": flat(got[2]),
        "dbR": flat(got[3]), "dx": flat(got[4]), "dh0": flat(got[5]),
    }


# ---------------------------------------------------------------------- RNN

def make_rnn_case(name, nonlinearity, F, H, B, T, scale, zero_state, seed):
    act = {"tanh": torch.tanh, "relu": torch.relu}[nonlinearity]
    gen = torch.Generator().manual_seed(seed)
    W = uniform((H, F), scale, gen)
    R = uniform((H, H), scale, gen)
    b = uniform((H,), scale, gen)
    b_ih, b_hh = split_bias(b, scale, gen)
    x = torch.randn((B, T, F), generator=gen) * 0.5
    if zero_state:
        h0 = torch.zeros((B, H))
    else:
        h0 = torch.randn((B, H), generator=gen) * 0.5
    gy = torch.randn((B, T, H), generator=gen)
    gh = torch.randn((B, H), generator=gen)

    rnn = torch.nn.RNN(F, H, num_layers=1, nonlinearity=nonlinearity,
                       bias=True, batch_first=True)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(W)
        rnn.weight_hh_l0.copy_(R)
        rnn.bias_ih_l0.copy_(b_ih)
        rnn.bias_hh_l0.copy_(b_hh)

    xg = x.clone().requires_grad_(True)
    h0g = h0.clone().requires_grad_(True)
    y, hn = rnn(xg, h0g.unsqueeze(0))
    hT = hn.squeeze(0)
    loss = (y * gy).sum() + (hT * gh).sum()
    loss.backward()
    got = (rnn.weight_ih_l0.grad, rnn.weight_hh_l0.grad, rnn.bias_ih_l0.grad,
           xg.grad, h0g.grad)

    yr, hr, pre = rnn_preactivations(W, R, b, x, h0, act)
    check_close(y, yr, f"rnn {name}: y")
    check_close(hT, hr, f"rnn {name}: hT")
    check_close(rnn.bias_ih_l0.grad, rnn.bias_hh_l0.grad, f"rnn {name}: bias grads")
    if nonlinearity == "relu":
        m = pre.abs().min().item()
        assert m > 1e-6, f"rnn {name}: a pre-activation is {m} from the relu kink"
        # Both branches of relu are exercised (some units off, some on).
        frac = (pre > 0).double().mean().item()
        assert 0.0 < frac < 1.0, f"rnn {name}: {frac} of units active"

    def ref_loss(W_, R_, b_, x_, h0_):
        y_, h_ = rnn_reference(W_, R_, b_, x_, h0_, act)
        return (y_ * gy).sum() + (h_ * gh).sum()

    ins = [t.clone().requires_grad_(True) for t in (W, R, b, x, h0)]
    ref = torch.autograd.grad(ref_loss(*ins), ins)
    for g_got, g_ref, what in zip(got, ref, ("dW", "dR", "db", "dx", "dh0")):
        check_close(g_got, g_ref, f"rnn {name}: {what}")

    def torch_loss(W_, R_, b_, x_, h0_):
        y_, hn_ = module_call(rnn, (W_, R_, b_ih, b_ - b_ih), x_, h0_.unsqueeze(0))
        return (y_ * gy).sum() + (hn_.squeeze(0) * gh).sum()

    check_close(torch_loss(W, R, b, x, h0), loss, f"rnn {name}: module_call")
    gradcheck(torch_loss, (W, R, b, x, h0), f"rnn {name}")

    return {
        "name": name, "nonlinearity": nonlinearity,
        "F": F, "H": H, "B": B, "T": T,
        "weight_scale": scale, "zero_state": zero_state,
        "W": flat(W), "R": flat(R), "b": flat(b),
        "x": flat(x), "h0": flat(h0),
        "y": flat(y), "hT": flat(hT),
        "gy": flat(gy), "gh": flat(gh),
        "loss": float(loss.item()),
        "dW": flat(got[0]), "dR": flat(got[1]), "db": flat(got[2]),
        "dx": flat(got[3]), "dh0": flat(got[4]),
    }


# ------------------------------------------------------------------- BiLSTM

def make_bilstm_case(name, F, H, B, T, lengths, scale, seed):
    assert len(lengths) == B and max(lengths) <= T and min(lengths) < T
    gen = torch.Generator().manual_seed(seed)
    W = uniform((4 * H, F), scale, gen)
    R = uniform((4 * H, H), scale, gen)
    b = uniform((4 * H,), scale, gen)
    b_ih, b_hh = split_bias(b, scale, gen)
    Wb = uniform((4 * H, F), scale, gen)
    Rb = uniform((4 * H, H), scale, gen)
    bb = uniform((4 * H,), scale, gen)
    bb_ih, bb_hh = split_bias(bb, scale, gen)

    mask = torch.zeros((B, T, 1))
    for k, L in enumerate(lengths):
        mask[k, :L] = 1.0
    x = torch.randn((B, T, F), generator=gen) * 0.5
    x = x * mask + PADDING_VALUE * (1 - mask)
    gy = torch.randn((B, T, 2 * H), generator=gen) * mask
    gh = torch.randn((2, B, H), generator=gen)
    gc = torch.randn((2, B, H), generator=gen)

    lstm = torch.nn.LSTM(F, H, num_layers=1, bias=True, batch_first=True,
                         bidirectional=True)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(W)
        lstm.weight_hh_l0.copy_(R)
        lstm.bias_ih_l0.copy_(b_ih)
        lstm.bias_hh_l0.copy_(b_hh)
        lstm.weight_ih_l0_reverse.copy_(Wb)
        lstm.weight_hh_l0_reverse.copy_(Rb)
        lstm.bias_ih_l0_reverse.copy_(bb_ih)
        lstm.bias_hh_l0_reverse.copy_(bb_hh)
    pack = torch.nn.utils.rnn.pack_padded_sequence
    unpack = torch.nn.utils.rnn.pad_packed_sequence
    lens = torch.tensor(lengths, dtype=torch.int64)

    def run(x_, params=None):
        packed = pack(x_, lens, batch_first=True, enforce_sorted=False)
        if params is None:
            out, (hn_, cn_) = lstm(packed)
        else:
            out, (hn_, cn_) = module_call(lstm, params, packed)
        y_, _ = unpack(out, batch_first=True, padding_value=0.0, total_length=T)
        return y_, hn_, cn_

    xg = x.clone().requires_grad_(True)
    y, hT, cT = run(xg)
    loss = (y * gy).sum() + (hT * gh).sum() + (cT * gc).sum()
    loss.backward()
    got = (lstm.weight_ih_l0.grad, lstm.weight_hh_l0.grad, lstm.bias_ih_l0.grad,
           lstm.weight_ih_l0_reverse.grad, lstm.weight_hh_l0_reverse.grad,
           lstm.bias_ih_l0_reverse.grad, xg.grad)
    names = ("dW", "dR", "db", "dWb", "dRb", "dbb", "dx")

    assert tuple(y.shape) == (B, T, 2 * H) and tuple(hT.shape) == (2, B, H)
    assert (y.detach() * (1 - mask)).abs().max().item() == 0.0, name
    assert (xg.grad * (1 - mask)).abs().max().item() == 0.0, f"{name}: dx at padding"
    check_close(lstm.bias_ih_l0.grad, lstm.bias_hh_l0.grad, f"bilstm {name}: bias grads")
    check_close(lstm.bias_ih_l0_reverse.grad, lstm.bias_hh_l0_reverse.grad,
                f"bilstm {name}: reverse bias grads")

    # Hand-run each sequence's real steps forward, and reversed for the
    # backward direction.
    yr, hr, cr = bilstm_reference(W, R, b, Wb, Rb, bb, x, lengths)
    check_close(y, yr, f"bilstm {name}: y")
    check_close(hT, hr, f"bilstm {name}: hT")
    check_close(cT, cr, f"bilstm {name}: cT")

    def ref_loss(W_, R_, b_, Wb_, Rb_, bb_, x_):
        y_, h_, c_ = bilstm_reference(W_, R_, b_, Wb_, Rb_, bb_, x_, lengths)
        return (y_ * gy).sum() + (h_ * gh).sum() + (c_ * gc).sum()

    ins = [t.clone().requires_grad_(True) for t in (W, R, b, Wb, Rb, bb, x)]
    ref = torch.autograd.grad(ref_loss(*ins), ins)
    for g_got, g_ref, what in zip(got, ref, names):
        check_close(g_got, g_ref, f"bilstm {name}: {what}")

    # The padding value does not leak into anything.
    y2, h2, c2 = run(x * mask - 3.0 * (1 - mask))
    for a, c_, what in ((y, y2, "y"), (hT, h2, "hT"), (cT, c2, "cT")):
        assert torch.equal(a.detach(), c_.detach()), f"{name}: {what} sees padding"

    def torch_loss(W_, R_, b_, Wb_, Rb_, bb_, x_):
        y_, h_, c_ = run(x_, (W_, R_, b_ih, b_ - b_ih, Wb_, Rb_, bb_ih, bb_ - bb_ih))
        return (y_ * gy).sum() + (h_ * gh).sum() + (c_ * gc).sum()

    check_close(torch_loss(W, R, b, Wb, Rb, bb, x), loss, f"bilstm {name}: module_call")
    gradcheck(torch_loss, (W, R, b, Wb, Rb, bb, x), f"bilstm {name}")

    case = {
        "name": name, "F": F, "H": H, "B": B, "T": T,
        "weight_scale": scale,
        "lengths": list(lengths), "padding": "right",
        "padding_value": PADDING_VALUE,
        "W": flat(W), "R": flat(R), "b": flat(b),
        "Wb": flat(Wb), "Rb": flat(Rb), "bb": flat(bb),
        "x": flat(x),
        "y": flat(y), "hT": flat(hT), "cT": flat(cT),
        "gy": flat(gy), "gh": flat(gh), "gc": flat(gc),
        "loss": float(loss.item()),
    }
    for g, what in zip(got, names):
        case[what] = flat(g)
    return case


# ------------------------------------------------------------ 2-layer LSTM

def make_lstm2_case(name, F, H, B, T, scale, zero_state, seed):
    gen = torch.Generator().manual_seed(seed)
    W1 = uniform((4 * H, F), scale, gen)
    R1 = uniform((4 * H, H), scale, gen)
    b1 = uniform((4 * H,), scale, gen)
    b1_ih, b1_hh = split_bias(b1, scale, gen)
    W2 = uniform((4 * H, H), scale, gen)
    R2 = uniform((4 * H, H), scale, gen)
    b2 = uniform((4 * H,), scale, gen)
    b2_ih, b2_hh = split_bias(b2, scale, gen)
    x = torch.randn((B, T, F), generator=gen) * 0.5
    if zero_state:
        h0 = torch.zeros((2, B, H))
        c0 = torch.zeros((2, B, H))
    else:
        h0 = torch.randn((2, B, H), generator=gen) * 0.5
        c0 = torch.randn((2, B, H), generator=gen) * 0.5
    gy = torch.randn((B, T, H), generator=gen)
    gh = torch.randn((2, B, H), generator=gen)
    gc = torch.randn((2, B, H), generator=gen)

    lstm = torch.nn.LSTM(F, H, num_layers=2, bias=True, batch_first=True,
                         dropout=0.0)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(W1)
        lstm.weight_hh_l0.copy_(R1)
        lstm.bias_ih_l0.copy_(b1_ih)
        lstm.bias_hh_l0.copy_(b1_hh)
        lstm.weight_ih_l1.copy_(W2)
        lstm.weight_hh_l1.copy_(R2)
        lstm.bias_ih_l1.copy_(b2_ih)
        lstm.bias_hh_l1.copy_(b2_hh)

    xg = x.clone().requires_grad_(True)
    h0g = h0.clone().requires_grad_(True)
    c0g = c0.clone().requires_grad_(True)
    y, (hT, cT) = lstm(xg, (h0g, c0g))
    loss = (y * gy).sum() + (hT * gh).sum() + (cT * gc).sum()
    loss.backward()
    got = (lstm.weight_ih_l0.grad, lstm.weight_hh_l0.grad, lstm.bias_ih_l0.grad,
           lstm.weight_ih_l1.grad, lstm.weight_hh_l1.grad, lstm.bias_ih_l1.grad,
           xg.grad, h0g.grad, c0g.grad)
    names = ("dW1", "dR1", "db1", "dW2", "dR2", "db2", "dx", "dh0", "dc0")

    check_close(lstm.bias_ih_l0.grad, lstm.bias_hh_l0.grad, f"lstm2 {name}: bias grads 1")
    check_close(lstm.bias_ih_l1.grad, lstm.bias_hh_l1.grad, f"lstm2 {name}: bias grads 2")

    # Layer 1's output sequence fed into layer 2 gives the same.
    yr, hr, cr = lstm2_reference(W1, R1, b1, W2, R2, b2, x, h0, c0)
    check_close(y, yr, f"lstm2 {name}: y")
    check_close(hT, hr, f"lstm2 {name}: hT")
    check_close(cT, cr, f"lstm2 {name}: cT")
    l1 = torch.nn.LSTM(F, H, batch_first=True)
    l2 = torch.nn.LSTM(H, H, batch_first=True)
    with torch.no_grad():
        for mod, Wk, Rk, bik, bhk in ((l1, W1, R1, b1_ih, b1_hh), (l2, W2, R2, b2_ih, b2_hh)):
            mod.weight_ih_l0.copy_(Wk)
            mod.weight_hh_l0.copy_(Rk)
            mod.bias_ih_l0.copy_(bik)
            mod.bias_hh_l0.copy_(bhk)
        ya, (ha, ca) = l1(x, (h0[0:1], c0[0:1]))
        yb, (hb, cb) = l2(ya, (h0[1:2], c0[1:2]))
    check_close(yb, y, f"lstm2 {name}: stacked single layers y")
    check_close(torch.cat([ha, hb]), hT, f"lstm2 {name}: stacked single layers hT")
    check_close(torch.cat([ca, cb]), cT, f"lstm2 {name}: stacked single layers cT")

    def ref_loss(W1_, R1_, b1_, W2_, R2_, b2_, x_, h0_, c0_):
        y_, h_, c_ = lstm2_reference(W1_, R1_, b1_, W2_, R2_, b2_, x_, h0_, c0_)
        return (y_ * gy).sum() + (h_ * gh).sum() + (c_ * gc).sum()

    ins = [t.clone().requires_grad_(True) for t in (W1, R1, b1, W2, R2, b2, x, h0, c0)]
    ref = torch.autograd.grad(ref_loss(*ins), ins)
    for g_got, g_ref, what in zip(got, ref, names):
        check_close(g_got, g_ref, f"lstm2 {name}: {what}")

    def torch_loss(W1_, R1_, b1_, W2_, R2_, b2_, x_, h0_, c0_):
        params = (W1_, R1_, b1_ih, b1_ - b1_ih, W2_, R2_, b2_ih, b2_ - b2_ih)
        y_, (h_, c_) = module_call(lstm, params, x_, (h0_, c0_))
        return (y_ * gy).sum() + (h_ * gh).sum() + (c_ * gc).sum()

    check_close(torch_loss(W1, R1, b1, W2, R2, b2, x, h0, c0), loss,
                f"lstm2 {name}: module_call")
    gradcheck(torch_loss, (W1, R1, b1, W2, R2, b2, x, h0, c0), f"lstm2 {name}")

    case = {
        "name": name, "F": F, "H": H, "B": B, "T": T,
        "weight_scale": scale, "zero_state": zero_state,
        "W1": flat(W1), "R1": flat(R1), "b1": flat(b1),
        "W2": flat(W2), "R2": flat(R2), "b2": flat(b2),
        "x": flat(x), "h0": flat(h0), "c0": flat(c0),
        "y": flat(y), "hT": flat(hT), "cT": flat(cT),
        "gy": flat(gy), "gh": flat(gh), "gc": flat(gc),
        "loss": float(loss.item()),
    }
    for g, what in zip(got, names):
        case[what] = flat(g)
    return case


# ------------------------------------------------------------------- output

SECTIONS = ("gru", "rnn", "bilstm", "lstm2")


def write(path, doc):
    """JSON with one field per line, so that diffs stay readable."""
    with open(path, "w") as f:
        f.write("{\n")
        f.write(f' "format": {json.dumps(doc["format"])},\n')
        f.write(f' "generator": {json.dumps(doc["generator"])},\n')
        f.write(f' "torch_version": {json.dumps(doc["torch_version"])},\n')
        for si, section in enumerate(SECTIONS):
            cases = doc[section]
            f.write(f' {json.dumps(section)}: [\n')
            for ci, case in enumerate(cases):
                f.write("  {\n")
                items = list(case.items())
                for ki, (k, v) in enumerate(items):
                    sep = "," if ki + 1 < len(items) else ""
                    f.write(f"   {json.dumps(k)}: {json.dumps(v)}{sep}\n")
                f.write("  }" + ("," if ci + 1 < len(cases) else "") + "\n")
            f.write(" ]" + ("," if si + 1 < len(SECTIONS) else "") + "\n")
        f.write("}\n")
    # The file must be plain JSON that round-trips exactly.
    with open(path) as f:
        assert json.load(f) == doc


def main():
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "cell_fixtures.json")

    doc = {
        "format": FORMAT,
        "generator": "rnn/testdata/make_cell_fixtures.py",
        "torch_version": torch.__version__,
        "gru": [make_gru_case(*c) for c in GRU_CASES],
        "rnn": [make_rnn_case(*c) for c in RNN_CASES],
        "bilstm": [make_bilstm_case(*c) for c in BILSTM_CASES],
        "lstm2": [make_lstm2_case(*c) for c in LSTM2_CASES],
    }
    write(out, doc)
    counts = ", ".join(f"{s} {len(doc[s])}" for s in SECTIONS)
    print(f"wrote {counts} cases to {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
