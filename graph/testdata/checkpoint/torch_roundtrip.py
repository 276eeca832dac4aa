#!/usr/bin/python3
"""Round trip of seqgraph checkpoints through PyTorch.

seqgraph saves networks as safetensors files (docs/checkpoints.md). This
script checks both directions for the network

    SequenceInput(F) -> LSTM(H, OutputMode last) -> FullyConnected(K)
        -> Softmax -> ClassificationOutput

which is PyTorch's nn.LSTM(F, H, batch_first=True), its last hidden state
h_T, nn.Linear(H, K) and a softmax. Gates come in the same order, i, f, g, o,
in both, so the weights map one to one:

    lstm1/InputWeights      (4H x F)  weight_ih_l0
    lstm1/RecurrentWeights  (4H x H)  weight_hh_l0
    lstm1/Bias              (4H)      bias_ih_l0 + bias_hh_l0 (seqgraph, as
                                      MATLAB, has one bias; loading sets
                                      bias_ih_l0 to it and bias_hh_l0 to 0)
    fc1/Weights             (K x H)   weight
    fc1/Bias                (K)       bias

Commands (DIR defaults to this script's folder):

    /usr/bin/python3 torch_roundtrip.py check [DIR]
        Go -> PyTorch: reads each DIR/go_lstm_<dtype>.safetensors that seqgraph
        wrote (SEQGRAPH_WRITE_FIXTURES=1 go test ./graph -run
        TestWriteCheckpointFixtures), verifies its CRC-32C checksums as
        docs/checkpoints.md says (version 2; version 1 files have none:
        DIR = v1 checks seqgraph's checkpoints of version 1), builds the
        PyTorch model from it, runs
        the inputs of DIR/go_lstm_<dtype>.json through it and compares its
        probabilities with seqgraph's, written beside them. It prints the
        largest difference and fails above 1e-6 (float32) or 1e-12 (float64).

    /usr/bin/python3 torch_roundtrip.py write [DIR]
        PyTorch -> Go: makes a PyTorch model of each dtype with random
        weights, writes it as DIR/torch_lstm_<dtype>.safetensors in seqgraph's
        format of version 1 (without checksums, so that package graph's tests
        have version 1 files from a writer other than seqgraph), and its inputs and probabilities as DIR/torch_lstm_<dtype>.json,
        which TestLoadCheckpointFixtures in package graph checks.

The JSON beside a checkpoint is {"dtype": ..., "inputs": [T x F sequences],
"probabilities": [K values per sequence]}. PyTorch runs each sequence on its
own, unpadded; seqgraph runs them as one padded, masked batch.

It reads and writes safetensors by hand (json and struct), so it needs
nothing beyond Debian's python3-torch (apt-get install -y python3-torch) and
its own interpreter, /usr/bin/python3.
"""

import json
import os
import struct
import sys

import torch

FORMAT = "seqgraph-checkpoint"
READ_VERSION = 2   # the newest version read
WRITE_VERSION = 1  # the version written: no checksums
DTYPES = {"float32": (torch.float32, "F32", "f", 4, 1e-6),
          "float64": (torch.float64, "F64", "d", 8, 1e-12)}
BY_ST_DTYPE = {v[1]: k for k, v in DTYPES.items()}


def read_safetensors(path):
    """Returns ({name: tensor}, metadata) of the safetensors file at path."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: truncated")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError(f"{path}: header of {n} bytes, only {len(data) - 8} follow")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    metadata = header.pop("__metadata__", {})
    verify_checksums(path, data[:8 + n], header, metadata, body)
    tensors, end = {}, 0
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        begin, stop = e["data_offsets"]
        if begin != end:
            raise ValueError(f"{path}: tensor {name}: gap or overlap at byte {begin}")
        end = stop
        _, _, fmt, size, _ = DTYPES[BY_ST_DTYPE[e["dtype"]]]
        count = (stop - begin) // size
        values = struct.unpack(f"<{count}{fmt}", body[begin:stop])
        t = torch.tensor(values, dtype=DTYPES[BY_ST_DTYPE[e["dtype"]]][0])
        tensors[name] = t.reshape(e["shape"])
    if end != len(body):
        raise ValueError(f"{path}: {len(body) - end} bytes after the tensors")
    return tensors, metadata


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value
    and final XOR 0xFFFFFFFF) of data, as 8 lowercase hex digits."""
    c = 0xFFFFFFFF
    for b in data:
        c = CRC32C_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return f"{c ^ 0xFFFFFFFF:08x}"


def verify_checksums(path, head, header, metadata, body):
    """Checks the checksums of a file that has them, which every version 2
    checkpoint must, as docs/checkpoints.md describes them: head is the
    file's first 8 + N bytes."""
    if int(metadata.get("version", "0")) < 2 and "headerCRC32C" not in metadata:
        return
    key = b'"headerCRC32C":"'
    at = head.find(key) + len(key)
    if at < len(key) or head.find(key, at) >= 0:
        raise ValueError(f"{path}: headerCRC32C is missing or twice")
    stored = head[at:at + 8].decode("ascii")
    if crc32c(head[:at] + b"00000000" + head[at + 8:]) != stored or metadata["headerCRC32C"] != stored:
        raise ValueError(f"{path}: the header's CRC-32C does not match")
    sums = json.loads(metadata["tensorCRC32C"])
    if set(sums) != set(header):
        raise ValueError(f"{path}: tensorCRC32C names other tensors than the header")
    for name, e in header.items():
        begin, stop = e["data_offsets"]
        if crc32c(body[begin:stop]) != sums[name]:
            raise ValueError(f"{path}: tensor {name}: its CRC-32C does not match")


def write_safetensors(path, tensors, metadata):
    """Writes {name: tensor} (float32 or float64) and string metadata to path,
    as seqgraph does: tensors in order of name, header padded with spaces to
    a multiple of 8 bytes."""
    header, chunks, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        dtype = "float64" if t.dtype == torch.float64 else "float32"
        _, st_dtype, fmt, _, _ = DTYPES[dtype]
        values = t.flatten().tolist()
        chunk = struct.pack(f"<{len(values)}{fmt}", *values)
        header[name] = {"dtype": st_dtype, "shape": list(t.shape), "data_offsets": [off, off + len(chunk)]}
        chunks.append(chunk)
        off += len(chunk)
    header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)


def lstm_layers(network):
    """Checks that the network is the one this script knows and returns its
    sizes F, H, K and the names of its LSTM and fully connected layers."""
    kinds = [l["kind"] for l in network["layers"]]
    want = ["sequence-input", "lstm", "fully-connected", "softmax", "classification-output"]
    if kinds != want:
        raise ValueError(f"layers {kinds}, want {want}")
    inp, lstm, fc = network["layers"][:3]
    if inp.get("normalization", "none") != "none":
        raise ValueError(f"input normalization {inp['normalization']} is not supported here")
    if lstm.get("outputMode") != "last" or lstm.get("gateActivation", "sigmoid") != "sigmoid" \
            or lstm.get("stateActivation", "tanh") != "tanh":
        raise ValueError(f"the LSTM layer {lstm} is not nn.LSTM's")
    return inp["features"], lstm["hiddenUnits"], fc["outputs"], lstm["name"], fc["name"]


def new_model(f, h, k, dtype):
    lstm = torch.nn.LSTM(f, h, batch_first=True, dtype=dtype)
    fc = torch.nn.Linear(h, k, dtype=dtype)
    return lstm, fc


def predict(lstm, fc, inputs, dtype):
    """Class probabilities of each T x F sequence of inputs, run on its own."""
    out = []
    with torch.no_grad():
        for seq in inputs:
            x = torch.tensor([seq], dtype=dtype)
            _, (hn, _) = lstm(x)
            out.append(torch.softmax(fc(hn[-1]), dim=-1)[0].tolist())
    return out


def check(folder):
    """Go -> PyTorch."""
    worst_all = 0.0
    for dtype_name, (dtype, _, _, _, tol) in DTYPES.items():
        base = os.path.join(folder, f"go_lstm_{dtype_name}")
        tensors, meta = read_safetensors(base + ".safetensors")
        if meta.get("format") != FORMAT or int(meta.get("version", "0")) > READ_VERSION:
            raise ValueError(f"{base}: format {meta.get('format')} version {meta.get('version')}")
        network = json.loads(meta["network"])
        if network["dtype"] != dtype_name:
            raise ValueError(f"{base}: dtype {network['dtype']}, want {dtype_name}")
        f, h, k, lname, fname = lstm_layers(network)
        lstm, fc = new_model(f, h, k, dtype)
        with torch.no_grad():
            lstm.weight_ih_l0.copy_(tensors[lname + "/InputWeights"])
            lstm.weight_hh_l0.copy_(tensors[lname + "/RecurrentWeights"])
            lstm.bias_ih_l0.copy_(tensors[lname + "/Bias"])
            lstm.bias_hh_l0.zero_()
            fc.weight.copy_(tensors[fname + "/Weights"])
            fc.bias.copy_(tensors[fname + "/Bias"])
        with open(base + ".json") as fp:
            io = json.load(fp)
        got = predict(lstm, fc, io["inputs"], dtype)
        want = io["probabilities"]
        diffs = [abs(a - b) for g, w in zip(got, want) for a, b in zip(g, w)]
        worst = max(diffs)
        ok = len(got) == len(want) and all(len(g) == len(w) for g, w in zip(got, want)) and worst <= tol
        print(f"go_lstm_{dtype_name}: F={f} H={h} K={k}, {len(diffs)} probabilities, "
              f"largest |PyTorch - seqgraph| = {worst:.3g} (tolerance {tol:g}) {'ok' if ok else 'FAIL'}")
        if not ok:
            return 1
        worst_all = max(worst_all, worst)
    return 0


def write(folder):
    """PyTorch -> Go."""
    f, h, k = 3, 5, 4
    for i, (dtype_name, (dtype, _, _, _, _)) in enumerate(DTYPES.items()):
        torch.manual_seed(100 + i)
        lstm, fc = new_model(f, h, k, dtype)
        inputs = [torch.randn(t, f, dtype=torch.float64).tolist() for t in (3, 1, 6, 4, 2)]
        probs = predict(lstm, fc, inputs, dtype)
        tensors = {
            "lstm1/InputWeights": lstm.weight_ih_l0,
            "lstm1/RecurrentWeights": lstm.weight_hh_l0,
            "lstm1/Bias": lstm.bias_ih_l0 + lstm.bias_hh_l0,
            "fc1/Weights": fc.weight,
            "fc1/Bias": fc.bias,
        }
        network = {
            "dtype": dtype_name, "seed": 1, "classNames": ["a", "b", "c", "d"],
            "layers": [
                {"kind": "sequence-input", "name": "sequenceinput1", "features": f, "normalization": "none",
                 "outputSize": f},
                {"kind": "lstm", "name": "lstm1", "hiddenUnits": h, "outputMode": "last",
                 "gateActivation": "sigmoid", "stateActivation": "tanh", "inputSize": f, "outputSize": h},
                {"kind": "fully-connected", "name": "fc1", "outputs": k, "inputSize": h, "outputSize": k},
                {"kind": "softmax", "name": "softmax1", "inputSize": k, "outputSize": k},
                {"kind": "classification-output", "name": "classoutput1", "inputSize": k, "outputSize": k},
            ],
        }
        meta = {"format": FORMAT, "version": str(WRITE_VERSION), "network": json.dumps(network, separators=(",", ":"))}
        base = os.path.join(folder, f"torch_lstm_{dtype_name}")
        write_safetensors(base + ".safetensors", tensors, meta)
        with open(base + ".json", "w") as fp:
            json.dump({"dtype": dtype_name, "inputs": inputs, "probabilities": probs}, fp, separators=(",", ":"))
            fp.write("\n")
        print(f"wrote {base}.safetensors and .json (torch {torch.__version__})")
    return 0


def main(argv):
    if len(argv) not in (2, 3) or argv[1] not in ("check", "write"):
        print(__doc__, file=sys.stderr)
        return 2
    folder = argv[2] if len(argv) == 3 else os.path.dirname(os.path.abspath(__file__))
    return check(folder) if argv[1] == "check" else write(folder)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
