package graph

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loadCatching loads data as Load does, and as LoadFile does knowing its
// size, turning a panic into a test failure that says which input caused it.
func loadCatching(t *testing.T, what string, data []byte) (errs [2]error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s: Load panics: %v", what, r)
		}
	}()
	_, errs[0] = Load(bytes.NewReader(data))
	_, _, errs[1] = load(bytes.NewReader(data), int64(len(data)), nil)
	return errs
}

// TestLoadRefusesEveryBitFlip flips each bit of a small checkpoint in turn.
// A CRC-32C finds every error of at most 32 bits (it divides by a
// polynomial of degree 32 with a non-zero constant term), so every flip must
// be refused: in a tensor's bytes naming the tensor, in the header saying
// that the header is corrupt, in the header length saying that too or that
// the file is then too short.
func TestLoadRefusesEveryBitFlip(t *testing.T) {
	start := time.Now()
	data := ckptSmall(t)
	hlen := int(binary.LittleEndian.Uint64(data))
	ts, _, err := readSafetensors(bytes.NewReader(data), -1)
	if err != nil {
		t.Fatal(err)
	}
	owner := make([]string, len(data)) // the tensor that holds each byte
	at := 8 + hlen
	for _, x := range ts {
		for range x.data {
			owner[at] = x.name
			at++
		}
	}
	if at != len(data) {
		t.Fatalf("the tensors end at byte %d of %d", at, len(data))
	}
	flipped := bytes.Clone(data)
	kinds := map[string]int{}
	for bit := range 8 * len(data) {
		i, mask := bit/8, byte(1)<<(bit%8)
		flipped[i] ^= mask
		what := fmt.Sprintf("byte %d (of %d), bit %d", i, len(data), bit%8)
		for _, err := range loadCatching(t, what, flipped) {
			var want []string
			switch {
			case owner[i] != "":
				want = []string{fmt.Sprintf("corrupt: tensor %q: the CRC-32C of its", owner[i])}
			case i < 8:
				want = []string{"corrupt: header length", "corrupt header", "truncated"}
			default:
				want = []string{"corrupt header"}
			}
			if err == nil {
				t.Fatalf("%s: loads", what)
			}
			if !containsAny(err.Error(), want) {
				t.Fatalf("%s: error %q; want one saying %q", what, err, want)
			}
			kinds[strings.SplitN(strings.TrimPrefix(err.Error(), "graph: checkpoint: "), ":", 2)[0]]++
		}
		flipped[i] ^= mask
	}
	t.Logf("%d bits flipped in %v: %v", 8*len(data), time.Since(start).Round(time.Millisecond), kinds)
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestCRC32C checks the checksum against the published values of CRC-32C:
// the check value of the CRC catalogue (CRC-32/ISCSI, "123456789") and the
// test vectors of RFC 3720 (iSCSI), appendix B.4.
func TestCRC32C(t *testing.T) {
	ascending, descending := make([]byte, 32), make([]byte, 32)
	for i := range ascending {
		ascending[i], descending[i] = byte(i), byte(31-i)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"check value", []byte("123456789"), "e3069283"},
		{"empty", nil, "00000000"},
		{"32 zeros", make([]byte, 32), "8a9136aa"},
		{"32 ones", bytes.Repeat([]byte{0xff}, 32), "62a8ab43"},
		{"ascending", ascending, "46dd794e"},
		{"descending", descending, "113fdb5c"},
	} {
		if got := crc32c(c.data); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
		// In two parts, as the header's checksum is taken.
		if len(c.data) > 1 {
			if got := crc32c(c.data[:3], c.data[3:]); got != c.want {
				t.Errorf("%s in two parts: %s, want %s", c.name, got, c.want)
			}
		}
	}
}

// docCRC32C is CRC-32C as docs/checkpoints.md defines it, bit by bit:
// reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF.
func docCRC32C(data []byte) uint32 {
	c := ^uint32(0)
	for _, b := range data {
		c ^= uint32(b)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0x82F63B78
			} else {
				c >>= 1
			}
		}
	}
	return ^c
}

// TestChecksumsAsDocumented verifies saved checkpoints by the steps of
// docs/checkpoints.md, with a CRC of its own, as a reader in another
// language would: so that the documentation describes the files.
func TestChecksumsAsDocumented(t *testing.T) {
	cases := ckptCases()
	for _, c := range []ckptCase{cases[0], cases[len(cases)-1]} {
		net, _ := ckptTrained(t, c)
		file := saveBytes(t, net)
		// 1. The header: N, the JSON text, the metadata.
		n := binary.LittleEndian.Uint64(file)
		head := file[:8+n]
		var header map[string]json.RawMessage
		if err := json.Unmarshal(head[8:], &header); err != nil {
			t.Fatal(err)
		}
		var meta map[string]string
		if err := json.Unmarshal(header[stMetadata], &meta); err != nil {
			t.Fatal(err)
		}
		// 2. The header's checksum: the 8 digits after the one
		// occurrence of "headerCRC32C":", read as "00000000".
		key := []byte(`"headerCRC32C":"`)
		if bytes.Count(head, key) != 1 {
			t.Fatalf("%s: %d occurrences of %s", c.name, bytes.Count(head, key), key)
		}
		at := bytes.Index(head, key) + len(key)
		zeroed := append(append(bytes.Clone(head[:at]), "00000000"...), head[at+8:]...)
		if got, want := fmt.Sprintf("%08x", docCRC32C(zeroed)), string(head[at:at+8]); got != want || meta["headerCRC32C"] != want {
			t.Errorf("%s: the header's CRC-32C is %s, it records %s (metadata %s)", c.name, got, want, meta["headerCRC32C"])
		}
		// 3. Each tensor's checksum, over its bytes.
		var sums map[string]string
		if err := json.Unmarshal([]byte(meta["tensorCRC32C"]), &sums); err != nil {
			t.Fatal(err)
		}
		if len(sums) != len(header)-1 {
			t.Errorf("%s: %d checksums for %d tensors", c.name, len(sums), len(header)-1)
		}
		for name, raw := range header {
			if name == stMetadata {
				continue
			}
			var e stHeaderEntry
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatal(err)
			}
			body := file[8+n+e.DataOffsets[0] : 8+n+e.DataOffsets[1]]
			if got := fmt.Sprintf("%08x", docCRC32C(body)); got != sums[name] {
				t.Errorf("%s: tensor %q: CRC-32C %s, it records %q", c.name, name, got, sums[name])
			}
		}
	}
}

// handWritten builds a safetensors file of the tensors and metadata as they
// are, without the checksums that writeSafetensors adds. edit, if not nil,
// changes the header's bytes; then, if the header holds the placeholder of
// the header checksum, the checksum replaces it, as Save does.
func handWritten(ts []stTensor, meta map[string]string, edit func(h []byte) []byte) []byte {
	header := map[string]any{stMetadata: meta}
	var off uint64
	var data []byte
	for _, x := range ts {
		shape := make([]int64, len(x.shape))
		for i, d := range x.shape {
			shape[i] = int64(d)
		}
		header[x.name] = stHeaderEntry{Dtype: x.dtype, Shape: shape, DataOffsets: []uint64{off, off + uint64(len(x.data))}}
		off += uint64(len(x.data))
		data = append(data, x.data...)
	}
	h, err := json.Marshal(header)
	if err != nil {
		panic(err)
	}
	if edit != nil {
		h = edit(h)
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(h)))
	if at, err := headerCRCAt(h); err == nil && at >= 0 && string(h[at:at+8]) == crcPlaceholder {
		copy(h[at:], crc32c(n[:], h))
	}
	return append(append(n[:], h...), data...)
}

func TestLoadRejectsBadChecksums(t *testing.T) {
	good := ckptSmall(t)
	ts, meta, err := readSafetensors(bytes.NewReader(good), -1)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	if err := json.Unmarshal([]byte(meta[metaTensorCRC]), &sums); err != nil {
		t.Fatal(err)
	}
	// variant returns the checkpoint with its metadata changed by edit
	// and its header's bytes by editHeader, sealed.
	variant := func(edit func(m map[string]string), editHeader func(h []byte) []byte) []byte {
		m := map[string]string{}
		for k, v := range meta {
			m[k] = v
		}
		m[metaHeaderCRC] = crcPlaceholder
		if edit != nil {
			edit(m)
		}
		return handWritten(ts, m, editHeader)
	}
	tensorSums := func(edit func(s map[string]string)) func(m map[string]string) {
		return func(m map[string]string) {
			s := map[string]string{}
			for k, v := range sums {
				s[k] = v
			}
			edit(s)
			b, _ := json.Marshal(s)
			m[metaTensorCRC] = string(b)
		}
	}
	flipLast := func(data []byte) []byte {
		data = bytes.Clone(data)
		data[len(data)-1] ^= 0x80
		return data
	}
	v1 := rewrite(t, good, func(ts []stTensor, m map[string]string) []stTensor {
		m["version"] = "1"
		return ts
	})
	upper := variant(nil, nil)
	at, _ := headerCRCAt(upper[8:])
	if digits := upper[8+at : 16+at]; bytes.Equal(digits, bytes.ToUpper(digits)) {
		t.Fatalf("the header checksum %s has no letter to turn to upper case", digits)
	}
	copy(upper[8+at:], bytes.ToUpper(upper[8+at:16+at]))
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"the sealed variant loads", variant(nil, nil), ""},
		{"tensor bytes", flipLast(good), `corrupt: tensor "lstm1/RecurrentWeights": the CRC-32C of its 64 bytes is`},
		{"tensor checksum", variant(tensorSums(func(s map[string]string) { s["fc1/Bias"] = "00000000" }), nil),
			`corrupt: tensor "fc1/Bias": the CRC-32C of its 8 bytes is ` + sums["fc1/Bias"] + `, the header records "00000000"`},
		// A change that would otherwise load: another training state.
		{"header bytes", bytes.Replace(good, []byte(`{\"epoch\":1,`), []byte(`{\"epoch\":3,`), 1), "corrupt header: its CRC-32C is"},
		{"upper-case digits", upper, "corrupt header: its CRC-32C is"},
		{"no header checksum", variant(func(m map[string]string) { delete(m, metaHeaderCRC) }, nil),
			"corrupt header: a version 2 checkpoint without headerCRC32C"},
		{"no tensor checksums", variant(func(m map[string]string) { delete(m, metaTensorCRC) }, nil),
			"corrupt header: a version 2 checkpoint without tensorCRC32C"},
		{"header checksum with a space", variant(nil, func(h []byte) []byte {
			return bytes.Replace(h, []byte(`"headerCRC32C":"`), []byte(`"headerCRC32C": "`), 1)
		}), `corrupt header: headerCRC32C is not written as "headerCRC32C":"<8 hex digits>"`},
		{"header checksum twice", variant(nil, func(h []byte) []byte {
			return bytes.Replace(h, []byte(`"headerCRC32C":"00000000"`), []byte(`"headerCRC32C":"00000000","headerCRC32C":"00000000"`), 1)
		}), "corrupt header: headerCRC32C appears twice"},
		{"header checksum too short", variant(func(m map[string]string) { m[metaHeaderCRC] = "1234567" }, nil),
			"corrupt header: headerCRC32C is not 8 hex digits"},
		{"tensor without checksum", variant(tensorSums(func(s map[string]string) { delete(s, "lstm1/Bias") }), nil),
			`corrupt header: tensor "lstm1/Bias" has no checksum in tensorCRC32C`},
		{"checksum without tensor", variant(tensorSums(func(s map[string]string) { s["lstm1/Peepholes"] = "00000000" }), nil),
			`corrupt header: tensorCRC32C has a checksum for "lstm1/Peepholes", which the file does not hold`},
		{"tensor checksums not JSON", variant(func(m map[string]string) { m[metaTensorCRC] = "{" }, nil),
			"corrupt header: tensorCRC32C: unexpected end of JSON"},
		{"tensor checksums twice", variant(func(m map[string]string) {
			m[metaTensorCRC] = strings.Replace(m[metaTensorCRC], "{", `{"fc1/Bias":"00000000",`, 1)
		}, nil), `corrupt header: tensorCRC32C: key "fc1/Bias" appears twice`},
		// Checksums are verified whatever the version says: a flip of
		// version "2" to "1" is one bit.
		{"version 1 with checksums", v1, ""},
		{"version 1 with a bad checksum", flipLast(v1), `corrupt: tensor "lstm1/RecurrentWeights"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, err := range loadCatching(t, c.name, c.data) {
				t.Log(err)
				switch {
				case c.want == "" && err != nil:
					t.Errorf("error %v", err)
				case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
					t.Errorf("error %v; want one saying %s", err, c.want)
				}
			}
		})
	}
}

// TestLoadVersion1 reads checkpoints of version 1, which seqgraph wrote
// before checksums: they load without them (TestLoadCheckpointFixtures
// checks what they predict), a flipped bit in their tensors goes unseen as
// it did then, a cut anywhere is still found, and saving them again writes
// version 2.
func TestLoadVersion1(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtureDir, "v1", "go_lstm_float32.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	net, err := Load(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(data)
	flipped[len(flipped)-1] ^= 0x01 // the last mantissa bit of a weight
	if _, err := Load(bytes.NewReader(flipped)); err != nil {
		t.Errorf("a version 1 checkpoint with a flipped tensor bit: %v; version 1 has no checksums to find it", err)
	}
	for n := range len(data) {
		for _, err := range loadCatching(t, fmt.Sprintf("cut to %d bytes", n), data[:n]) {
			if err == nil || !strings.Contains(err.Error(), "truncated") {
				t.Fatalf("cut to %d of %d bytes: %v", n, len(data), err)
			}
		}
	}
	_, meta, err := readSafetensors(bytes.NewReader(saveBytes(t, net)), -1)
	if err != nil {
		t.Fatal(err)
	}
	if meta["version"] != "2" || meta[metaHeaderCRC] == "" || meta[metaTensorCRC] == "" {
		t.Errorf("saved again: version %q, checksums %q and %q", meta["version"], meta[metaHeaderCRC], meta[metaTensorCRC])
	}
}
