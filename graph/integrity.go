package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"sort"

	"github.com/pkg/errors"
)

// Checkpoints carry CRC-32C checksums (the Castagnoli polynomial
// 0x1EDC6F41, reflected, initial value and final XOR 0xFFFFFFFF: the CRC of
// iSCSI and ext4, which amd64 and arm64 compute in hardware) in two
// metadata entries, so that the file stays a safetensors file that any
// reader accepts:
//
//	tensorCRC32C  JSON text {"<tensor>": "<8 hex digits>", ...}: the
//	              checksum of each tensor's bytes, one entry per tensor
//	headerCRC32C  8 hex digits: the checksum of the file's first 8+N bytes
//	              (the header length and the header) as they are with
//	              these 8 digits replaced by "00000000"
//
// Hex digits are lowercase. The header's checksum covers the tensors', so
// that the two cover every byte of the file, and a single flipped bit
// anywhere is found: a CRC-32C finds every error that spans at most 32 bits.
//
// The header is compact JSON, so the entry appears in it as exactly the
// bytes "headerCRC32C":"<8 digits>" (inside a JSON string a quote is
// escaped, so these bytes can stand nowhere else): a reader finds and checks
// it before it parses the header, and reports a corrupt header as one,
// whatever the corruption turned it into.
//
// The checksums guard against accidents (bit rot, a bad copy, a torn
// write), not against tampering: whoever can change a tensor can change its
// checksum too, whatever the hash. A cryptographic hash such as SHA-256
// would buy nothing here, and takes 5 to 15 times as long to compute
// (docs/checkpoints.md has the measurements).
const (
	metaTensorCRC  = "tensorCRC32C"
	metaHeaderCRC  = "headerCRC32C"
	crcPlaceholder = "00000000"
	// headerCRCKey is how the header checksum's entry begins in a header.
	headerCRCKey = `"` + metaHeaderCRC + `":"`
)

// crc32c returns the CRC-32C of parts, one after the other, in the form a
// checkpoint holds it.
func crc32c(parts ...[]byte) string {
	tab := crc32.MakeTable(crc32.Castagnoli)
	var sum uint32
	for _, p := range parts {
		sum = crc32.Update(sum, tab, p)
	}
	return fmt.Sprintf("%08x", sum)
}

// withChecksums returns a copy of metadata with the tensors' checksums and
// the placeholder of the header's, which sealHeader replaces.
func withChecksums(tensors []stTensor, metadata map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(metadata)+2)
	for k, v := range metadata {
		out[k] = v
	}
	sums := make(map[string]string, len(tensors))
	for _, t := range tensors {
		sums[t.name] = crc32c(t.data)
	}
	b, err := json.Marshal(sums)
	if err != nil {
		return nil, errors.Wrap(err, "safetensors: checksums")
	}
	out[metaTensorCRC] = string(b)
	out[metaHeaderCRC] = crcPlaceholder
	return out, nil
}

// headerCRCAt returns where the 8 digits of the header checksum are in
// header, or -1 if it has none in the form that seqgraph writes.
func headerCRCAt(header []byte) (int, error) {
	key := []byte(headerCRCKey)
	i := bytes.Index(header, key)
	if i < 0 {
		return -1, nil
	}
	at := i + len(headerCRCKey)
	if bytes.Contains(header[at:], key) {
		return 0, errors.Errorf("corrupt header: %s appears twice", metaHeaderCRC)
	}
	if len(header) < at+9 || header[at+8] != '"' {
		return 0, errors.Errorf("corrupt header: %s is not 8 hex digits", metaHeaderCRC)
	}
	return at, nil
}

// sealHeader writes the checksum of the header length n and the header h
// over its placeholder in h.
func sealHeader(n, h []byte) error {
	at, err := headerCRCAt(h)
	if err == nil && (at < 0 || string(h[at:at+8]) != crcPlaceholder) {
		err = errors.New("no placeholder")
	}
	if err != nil {
		return errors.Wrap(err, "safetensors: sealing the header")
	}
	copy(h[at:], crc32c(n, h))
	return nil
}

// verifyHeader checks the checksum of the header length n and the header,
// if the header has one, and says whether it had.
func verifyHeader(n, header []byte) (bool, error) {
	at, err := headerCRCAt(header)
	if err != nil || at < 0 {
		return false, err
	}
	got := crc32c(n, header[:at], []byte(crcPlaceholder), header[at+8:])
	if want := header[at : at+8]; got != string(want) {
		return true, errors.Errorf("corrupt header: its CRC-32C is %s, the header records %q", got, want)
	}
	return true, nil
}

// verifyTensors checks each tensor's bytes against its checksum, when the
// metadata has the checksums. checked says whether verifyHeader found the
// header checksum: the metadata holds it then, and only then.
func verifyTensors(tensors []stTensor, metadata map[string]string, checked bool) error {
	if _, ok := metadata[metaHeaderCRC]; ok != checked {
		return errors.Errorf(`corrupt header: %s is not written as "%s":"<8 hex digits>"`, metaHeaderCRC, metaHeaderCRC)
	}
	s, ok := metadata[metaTensorCRC]
	if !ok {
		return nil
	}
	var sums map[string]string
	if err := strictUnmarshal(s, &sums); err != nil {
		return errors.Wrapf(err, "corrupt header: %s", metaTensorCRC)
	}
	for _, t := range tensors {
		want, ok := sums[t.name]
		if !ok {
			return errors.Errorf("corrupt header: tensor %q has no checksum in %s", t.name, metaTensorCRC)
		}
		if got := crc32c(t.data); got != want {
			return errors.Errorf("corrupt: tensor %q: the CRC-32C of its %d bytes is %s, the header records %q", t.name, len(t.data), got, want)
		}
		delete(sums, t.name)
	}
	extra := make([]string, 0, len(sums))
	for name := range sums {
		extra = append(extra, name)
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		return errors.Errorf("corrupt header: %s has a checksum for %q, which the file does not hold", metaTensorCRC, extra[0])
	}
	return nil
}

// requireChecksums checks that a checkpoint of the given version has the
// checksums that the version requires (readSafetensors has verified those
// it has). Version 1 had none.
func requireChecksums(meta map[string]string, version int) error {
	if version < 2 {
		return nil
	}
	for _, k := range []string{metaHeaderCRC, metaTensorCRC} {
		if _, ok := meta[k]; !ok {
			return errors.Errorf("corrupt header: a version %d checkpoint without %s", version, k)
		}
	}
	return nil
}
