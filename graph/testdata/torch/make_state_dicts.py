#!/usr/bin/python3
"""PyTorch state_dicts for seqgraph's LoadStateDict and SaveStateDict.

Each network below is a PyTorch model and, in package graph's tests
(graph/torch_test.go), the same network declared in seqgraph with the map
from its layers to the model's modules (WithTorchModules):

    lstm       nn.LSTM(3, 5) -> last hidden state -> nn.Linear(5, 4) -> softmax,
               an nn.Sequential's modules "0" and "1" (seqgraph's default
               names: no map)
    gru        nn.GRU(3, 4) -> nn.Linear(4, 2) at every step (regression);
               {"gru1": "rnn", "fc1": "head"}
    bilstm2    nn.LSTM(3, 4, num_layers=2, bidirectional=True) -> the output
               at the last step -> nn.Linear(8, 3) -> softmax: in seqgraph
               BiLSTM(4) -> BiLSTM(4, OutputMode last);
               {"bilstm1": "encoder.lstm@0", "bilstm2": "encoder.lstm@1",
                "fc1": "classifier"}
    convembed  nn.Embedding(9, 4, padding_idx=0) -> nn.Conv1d(4, 5, 3,
               padding=1) -> ReLU -> nn.LayerNorm(5) -> mean over time ->
               nn.Linear(5, 3) -> softmax; {"embedding1": "embed",
               "conv1d1": "conv", "layernorm1": "norm", "fc1": "out"}
    birnn_nobias
               nn.RNN(3, 4, bias=False, bidirectional=True) -> the final
               hidden state of each direction, concatenated ->
               nn.Linear(8, 3, bias=False) -> softmax: a Bidirectional layer
               of rnn.Elman cells (OutputMode final), whose biases load as
               zeros; {"birnn1": "rnn", "fc1": "fc"}. PyTorch -> Go only.

Commands (DIR defaults to this script's folder):

    /usr/bin/python3 make_state_dicts.py write [DIR]
        PyTorch -> Go: for each network and dtype (float32, float64), makes
        the model with seeded random weights and writes its state_dict as
        DIR/torch_<network>_<dtype>.safetensors, as
        safetensors.torch.save_file(state_dict, path,
        metadata={"format": "pt"}) does, and
        its inputs and outputs as DIR/torch_<network>_<dtype>.json, which
        TestStateDictFromPyTorch in package graph checks.

    /usr/bin/python3 make_state_dicts.py check [DIR]
        Go -> PyTorch: for each network but birnn_nobias and each dtype, reads
        DIR/go_<network>_<dtype>.safetensors, which seqgraph's
        SaveStateDictFile wrote (SEQGRAPH_WRITE_FIXTURES=1 go test ./graph
        -run TestWriteStateDictFixtures), verifies its CRC-32C checksums,
        loads it into the model with model.load_state_dict (strict: every
        key, no other), runs the inputs of DIR/go_<network>_<dtype>.json
        through it and compares the outputs with seqgraph's, written beside
        them. It prints the largest difference of each and fails above 1e-6
        (float32) or 1e-12 (float64).

The JSON beside a state_dict is {"dtype": ..., "inputs": [T x F sequences],
"outputs": [per sequence: K values, or T x K for gru]}. PyTorch runs each
sequence on its own, unpadded; seqgraph runs them as one padded, masked
batch. Both commands are deterministic.

It reads and writes safetensors by hand with torch_roundtrip.py's functions
(graph/testdata/checkpoint), so it needs nothing beyond Debian's
python3-torch (apt-get install -y python3-torch) and its own interpreter,
/usr/bin/python3.
"""

import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "checkpoint"))
from torch_roundtrip import read_safetensors, write_safetensors  # noqa: E402

DTYPES = {"float32": (torch.float32, 1e-6), "float64": (torch.float64, 1e-12)}


class Lstm:
    both = True

    @staticmethod
    def model(dtype):
        return torch.nn.Sequential(torch.nn.LSTM(3, 5, batch_first=True, dtype=dtype),
                                   torch.nn.Linear(5, 4, dtype=dtype))

    @staticmethod
    def run(m, x):
        _, (hn, _) = m[0](x)
        return torch.softmax(m[1](hn[-1]), dim=-1)[0]

    @staticmethod
    def inputs(rng):
        return [torch.randn(t, 3, generator=rng, dtype=torch.float64).tolist() for t in (3, 1, 6, 4, 2)]


class Gru:
    both = True

    @staticmethod
    def model(dtype):
        m = torch.nn.Module()
        m.rnn = torch.nn.GRU(3, 4, batch_first=True, dtype=dtype)
        m.head = torch.nn.Linear(4, 2, dtype=dtype)
        return m

    @staticmethod
    def run(m, x):
        out, _ = m.rnn(x)
        return m.head(out)[0]

    inputs = Lstm.inputs


class Bilstm2:
    both = True

    @staticmethod
    def model(dtype):
        m = torch.nn.Module()
        m.encoder = torch.nn.Module()
        m.encoder.lstm = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=dtype)
        m.classifier = torch.nn.Linear(8, 3, dtype=dtype)
        return m

    @staticmethod
    def run(m, x):
        out, _ = m.encoder.lstm(x)
        return torch.softmax(m.classifier(out[:, -1, :]), dim=-1)[0]

    inputs = Lstm.inputs


class Convembed:
    both = True

    @staticmethod
    def model(dtype):
        m = torch.nn.Module()
        m.embed = torch.nn.Embedding(9, 4, padding_idx=0, dtype=dtype)
        m.conv = torch.nn.Conv1d(4, 5, 3, padding=1, dtype=dtype)
        m.norm = torch.nn.LayerNorm(5, dtype=dtype)
        m.out = torch.nn.Linear(5, 3, dtype=dtype)
        with torch.no_grad():  # not the ones and zeros it starts with
            m.norm.weight.add_(0.3 * torch.randn(5, dtype=dtype))
            m.norm.bias.add_(0.3 * torch.randn(5, dtype=dtype))
        return m

    @staticmethod
    def run(m, x):
        tokens = x[0, :, 0].long()
        e = m.embed(tokens)                             # T x D
        c = torch.relu(m.conv(e.T.unsqueeze(0)))[0].T   # T x C
        return torch.softmax(m.out(m.norm(c).mean(dim=0)), dim=-1)

    @staticmethod
    def inputs(rng):
        seqs = [torch.randint(1, 9, (t, 1), generator=rng).tolist() for t in (5, 1, 7, 3)]
        seqs[2][3] = [0]  # padding inside a sequence maps to zeros in both
        return seqs


class BirnnNobias:
    both = False

    @staticmethod
    def model(dtype):
        m = torch.nn.Module()
        m.rnn = torch.nn.RNN(3, 4, bias=False, bidirectional=True, batch_first=True, dtype=dtype)
        m.fc = torch.nn.Linear(8, 3, bias=False, dtype=dtype)
        return m

    @staticmethod
    def run(m, x):
        _, hn = m.rnn(x)  # 2 x 1 x H: the forward, then the backward direction
        return torch.softmax(m.fc(torch.cat([hn[0], hn[1]], dim=-1)), dim=-1)[0]

    inputs = Lstm.inputs


NETS = {"lstm": Lstm, "gru": Gru, "bilstm2": Bilstm2, "convembed": Convembed, "birnn_nobias": BirnnNobias}


def outputs(net, m, inputs, dtype):
    """The model's output for each sequence of inputs, run on its own."""
    with torch.no_grad():
        return [net.run(m, torch.tensor([seq], dtype=dtype)).tolist() for seq in inputs]


def flat(v):
    return [y for x in v for y in flat(x)] if isinstance(v, list) else [v]


def write(folder):
    """PyTorch -> Go."""
    for n, (name, net) in enumerate(NETS.items()):
        for i, (dtype_name, (dtype, _)) in enumerate(DTYPES.items()):
            torch.manual_seed(1000 + 10 * n + i)
            m = net.model(dtype)
            inputs = net.inputs(torch.Generator().manual_seed(2000 + 10 * n + i))
            base = os.path.join(folder, f"torch_{name}_{dtype_name}")
            write_safetensors(base + ".safetensors", m.state_dict(), {"format": "pt"})
            with open(base + ".json", "w") as fp:
                json.dump({"dtype": dtype_name, "inputs": inputs, "outputs": outputs(net, m, inputs, dtype)},
                          fp, separators=(",", ":"))
                fp.write("\n")
            print(f"wrote {base}.safetensors and .json (torch {torch.__version__})")
    return 0


def check(folder):
    """Go -> PyTorch."""
    failed = 0
    for name, net in NETS.items():
        if not net.both:
            continue
        for dtype_name, (dtype, tol) in DTYPES.items():
            base = os.path.join(folder, f"go_{name}_{dtype_name}")
            tensors, meta = read_safetensors(base + ".safetensors")
            if meta.get("format") != "pt" or "headerCRC32C" not in meta:
                raise ValueError(f"{base}: metadata {sorted(meta)}, want format pt and the checksums")
            m = net.model(dtype)
            m.load_state_dict(tensors)  # strict: the same keys, shapes
            if any(t.dtype != dtype for t in tensors.values()):
                raise ValueError(f"{base}: tensors of other dtypes than {dtype_name}")
            with open(base + ".json") as fp:
                io = json.load(fp)
            got, want = flat(outputs(net, m, io["inputs"], dtype)), flat(io["outputs"])
            worst = max(abs(a - b) for a, b in zip(got, want))
            ok = len(got) == len(want) and worst <= tol
            print(f"go_{name}_{dtype_name}: {len(tensors)} tensors, {len(got)} outputs, "
                  f"largest |PyTorch - seqgraph| = {worst:.3g} (tolerance {tol:g}) {'ok' if ok else 'FAIL'}")
            failed += not ok
    return 1 if failed else 0


def main(argv):
    if len(argv) not in (2, 3) or argv[1] not in ("check", "write"):
        print(__doc__, file=sys.stderr)
        return 2
    folder = argv[2] if len(argv) == 3 else HERE
    return check(folder) if argv[1] == "check" else write(folder)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
