package graph

import (
	"bytes"
	"crypto/sha256"
	"hash/crc32"
	"testing"

	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/rnn"
)

// benchCheckpoint is a float32 network and its checkpoint.
type benchCheckpoint struct {
	name string
	net  *Network
	data []byte
}

// benchCheckpoints returns the networks whose checkpoints the benchmarks
// save and load: the reference network (12 features, an LSTM of 100 units,
// 9 classes; 0.19 MB) and a speech-sized one (40 features, two BiLSTMs of
// 256 units, 30 classes; 8.8 MB).
func benchCheckpoints(b *testing.B) []benchCheckpoint {
	var out []benchCheckpoint
	for _, c := range []struct {
		name   string
		layers []Layer
	}{
		{"reference", []Layer{SequenceInput(12), LSTM(100, WithOutputMode(rnn.Last)), FullyConnected(9), Softmax(), ClassificationOutput()}},
		{"bilstm2x256", []Layer{SequenceInput(40), BiLSTM(256), BiLSTM(256, WithOutputMode(rnn.Last)), FullyConnected(30), Softmax(), ClassificationOutput()}},
	} {
		net, err := NewNetwork(c.layers, WithDtype(tensor.Float32))
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, benchCheckpoint{c.name, net, saveBytes(b, net)})
	}
	return out
}

// benchBytes runs f as the sub-benchmark name, reporting the throughput
// over size bytes.
func benchBytes(b *testing.B, name string, size int, f func() error) {
	b.Run(name, func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCheckpoint times Save (into memory, so that the disk's speed
// does not count) and Load (from memory).
func BenchmarkCheckpoint(b *testing.B) {
	for _, c := range benchCheckpoints(b) {
		var buf bytes.Buffer
		benchBytes(b, "save/"+c.name, len(c.data), func() error {
			buf.Reset()
			return c.net.Save(&buf)
		})
		benchBytes(b, "load/"+c.name, len(c.data), func() error {
			_, err := Load(bytes.NewReader(c.data))
			return err
		})
	}
}

// BenchmarkSafetensors times the container alone, writing and reading the
// same checkpoints without building a network: the part of Save and Load
// that checksums add to.
func BenchmarkSafetensors(b *testing.B) {
	for _, c := range benchCheckpoints(b) {
		ts, meta, err := readSafetensors(bytes.NewReader(c.data), -1)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		benchBytes(b, "write/"+c.name, len(c.data), func() error {
			buf.Reset()
			return writeSafetensors(&buf, ts, meta)
		})
		benchBytes(b, "read/"+c.name, len(c.data), func() error {
			_, _, err := readSafetensors(bytes.NewReader(c.data), int64(len(c.data)))
			return err
		})
	}
}

// BenchmarkChecksum times the two candidate checksums over the bytes of the
// same checkpoints: CRC-32C, which checkpoints carry, and SHA-256.
func BenchmarkChecksum(b *testing.B) {
	tab := crc32.MakeTable(crc32.Castagnoli)
	for _, c := range benchCheckpoints(b) {
		benchBytes(b, "crc32c/"+c.name, len(c.data), func() error {
			crc32.Checksum(c.data, tab)
			return nil
		})
		benchBytes(b, "sha256/"+c.name, len(c.data), func() error {
			sha256.Sum256(c.data)
			return nil
		})
	}
}
