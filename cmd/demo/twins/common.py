"""Shared parts of the PyTorch twins of seqgraph's demos (cmd/demo/twins/*.py).

Each twin trains the network of one Go demo the way seqgraph's graph.Train
does, so that its metric and time can be set beside seqgraph's. What they
share, each written after MATLAB's definition that seqgraph follows:

- initialization (`matlab_init`): LSTM input weights Glorot uniform
  (bound sqrt(6/(F+4H))), recurrent weights orthogonal, biases zero but the
  forget gate's 1; fully connected and convolution weights Glorot uniform,
  biases zero (seqgraph's defaults, which are MATLAB's);
- losses (`step_regression_loss`, `step_classification_loss`): MATLAB's
  per-step losses, each sequence's half squared error or cross-entropy
  averaged over its real timesteps, then the mean over the mini-batch;
- the solver step (`solver_step`): MATLAB's L2 regularization (1e-4 times
  the weight added to the gradient of every weight, not of biases) before
  MATLAB's default gradient clipping, "l2norm", which scales each
  parameter's gradient to the threshold when its own norm exceeds it; then
  torch.optim's Adam, MATLAB's (same betas, epsilon and bias correction);
- the training loop of the sequence-to-label classifiers
  (`train_classifier`): cross-entropy, MATLAB's shuffling every epoch or
  once, the last short mini-batch dropped;
- one thread (`start`), as the Go demos run their training on one
  goroutine.

Run the twins with Debian's Python, which has PyTorch: /usr/bin/python3.
"""

import argparse
import json
import math
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402 (after the thread settings)
from torch import nn  # noqa: E402

L2 = 1e-4  # MATLAB's default L2Regularization, seqgraph's too


def start(doc, demo):
    """Parses a twin's flags (--data, the JSON file that `demo DEMO -export`
    wrote; --seed; --epochs, by default the exported run's), sets one thread
    and the seed of weights, dropout and shuffling, and returns the flags,
    the data, the number of epochs and the start time."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--data", required=True, help=f"JSON file written by `demo {demo} -export`")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epochs", type=int, help="default: the exported run's")
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    t0 = time.time()
    with open(args.data) as f:
        d = json.load(f)
    return args, d, args.epochs or d["Epochs"], t0


def glorot_(w, fan_in, fan_out):
    b = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        w.uniform_(-b, b)


def matlab_init(module):
    """Re-initializes every LSTM, Linear, Conv1d and Conv2d of module as MATLAB does."""
    for m in module.modules():
        if isinstance(m, nn.LSTM):
            h = m.hidden_size
            for layer in range(m.num_layers):
                w_ih = getattr(m, f"weight_ih_l{layer}")
                glorot_(w_ih, w_ih.shape[1], 4 * h)
                nn.init.orthogonal_(getattr(m, f"weight_hh_l{layer}"))
                with torch.no_grad():
                    b = getattr(m, f"bias_ih_l{layer}")
                    b.zero_()
                    b[h : 2 * h] = 1.0
                    getattr(m, f"bias_hh_l{layer}").zero_()
        elif isinstance(m, nn.Linear):
            glorot_(m.weight, m.in_features, m.out_features)
            nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.Conv1d, nn.Conv2d)):
            k = math.prod(m.kernel_size)
            glorot_(m.weight, m.in_channels * k, m.out_channels * k)
            nn.init.zeros_(m.bias)


def pad(seqs, value=0.0):
    """Right-pads a list of [T_i, ...] tensors to [B, T, ...] and returns it
    with the [B, T] mask and the lengths."""
    lengths = torch.tensor([s.shape[0] for s in seqs])
    x = nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=value)
    mask = (torch.arange(x.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)).float()
    return x, mask, lengths


def step_regression_loss(y, t, mask):
    """MATLAB's per-step regression loss: per sequence 1/(2L) sum_t sum_r
    (y-t)^2 over its L real steps, then the mean over the batch. y, t are
    [B, T, R], mask [B, T]."""
    se = ((y - t) ** 2).sum(dim=2) * mask
    return (se.sum(dim=1) / (2 * mask.sum(dim=1))).mean()


def step_classification_loss(logits, labels, mask):
    """MATLAB's per-step cross-entropy: per sequence the mean of -ln p over
    its real steps, then the mean over the batch. logits [B, T, K], labels
    [B, T] (any value on padding), mask [B, T]."""
    logp = torch.log_softmax(logits, dim=2)
    nll = -logp.gather(2, labels.clamp(min=0).unsqueeze(2)).squeeze(2) * mask
    return (nll.sum(dim=1) / mask.sum(dim=1)).mean()


def is_weight(name):
    """Whether seqgraph regularizes the parameter: everything but biases
    (batch normalization's offset and scale are regularized, as MATLAB's
    OffsetL2Factor and ScaleL2Factor 1; pass another rule for those)."""
    return not name.endswith("bias") and "bias_" not in name


def solver_step(model, opt, loss, threshold=math.inf, l2=L2, regularized=is_weight):
    """One solver step as seqgraph's optim: backward, L2 on the parameters
    that regularized(name) selects, per-parameter l2norm clipping, then
    opt.step()."""
    opt.zero_grad()
    loss.backward()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.grad is None:
                continue
            if l2 and regularized(name):
                p.grad.add_(p, alpha=l2)
            if math.isfinite(threshold):
                n = p.grad.norm()
                if n > threshold:
                    p.grad.mul_(threshold / n)
    opt.step()


def train_classifier(net, opt, labels, batch, epochs, start, logits_of, every_epoch=True, **step):
    """Trains a sequence-to-label classifier as seqgraph's graph.Train does:
    epochs of mini-batches of batch observations, shuffled every epoch
    (every_epoch) or once before the first (MATLAB's "once"), the last short
    mini-batch dropped; logits_of(idx) returns the logits of the
    observations idx; the loss is the cross-entropy, each step
    solver_step(net, opt, loss, **step). Prints a line per epoch with the
    last mini-batch's accuracy."""
    loss_fn = nn.CrossEntropyLoss()
    n = len(labels)
    order = torch.randperm(n).tolist()
    it = 0
    for epoch in range(1, epochs + 1):
        net.train()
        if every_epoch and epoch > 1:
            order = torch.randperm(n).tolist()
        for b in range(n // batch):
            idx = order[b * batch : (b + 1) * batch]
            logits = logits_of(idx)
            loss = loss_fn(logits, labels[idx])
            solver_step(net, opt, loss, **step)
            it += 1
        acc = (logits.argmax(1) == labels[idx]).float().mean().item()
        epoch_line(epoch, epochs, it, start, loss.item(), f"accuracy {100 * acc:5.1f}%")


def print_test_accuracy(logits, labels):
    """Prints the classifiers' metric line: the accuracy (%) of the classes
    of largest logit against labels."""
    acc = (logits.argmax(1) == torch.tensor(labels)).float().mean().item()
    print(f"test accuracy (%): {100 * acc:.2f}")


def rmse(pred, truth):
    return math.sqrt(sum((p - t) ** 2 for p, t in zip(pred, truth)) / len(pred))


def epoch_line(epoch, epochs, iteration, start, loss, metric):
    print(f"epoch {epoch:3d}/{epochs}  iteration {iteration:5d}  elapsed {time.time() - start:.0f}s  loss {loss:.5g}  {metric}", flush=True)
