package backup

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash/crc32"
	"io"
	"strings"
	"testing"
	"time"
)

// TestChunksConcatenate encodes a CSV as chunks over several "invocations"
// (each going on from the previous chunk's state blob), then builds a ZIP
// entry from the chunks as the zip step does: the entry must read back as
// the CSV, with the CSV's CRC-32, size and SHA-256.
func TestChunksConcatenate(t *testing.T) {
	var csv bytes.Buffer
	for i := range 5000 {
		csv.WriteString(strings.Repeat("value,", i%17) + "\"quoted\r\nnewline\",end\r\n")
	}
	tests := []struct {
		name   string
		pieces []int // CSV bytes per chunk; invocations end after each
	}{
		{"one chunk", []int{csv.Len()}},
		{"many chunks", []int{1, 4095, 70000, 1 << 16, 100, 200000}},
		{"empty writes", []int{0, 10, 0, 5000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				cp     Checkpoint
				chunks [][]byte
				state  []byte
			)
			rest := csv.Bytes()
			for i, n := range tt.pieces {
				if i == len(tt.pieces)-1 {
					n = len(rest)
				}
				enc, err := newChunkEncoder(state, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := enc.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
				chunk, st, err := enc.Chunk()
				if err != nil {
					t.Fatal(err)
				}
				chunks, state = append(chunks, bytes.Clone(chunk)), bytes.Clone(st)
				enc.Commit(&cp)
				enc.Release()
			}
			if cp.Chunks != len(tt.pieces) || cp.Bytes != int64(csv.Len()) {
				t.Fatalf("checkpoint: %d chunks, %d bytes", cp.Chunks, cp.Bytes)
			}
			crc, sum, err := csvSums(state)
			if err != nil {
				t.Fatal(err)
			}
			if want := crc32.ChecksumIEEE(csv.Bytes()); crc != want {
				t.Fatalf("crc32 %08x, want %08x", crc, want)
			}
			if want := sha256.Sum256(csv.Bytes()); sum != hex.EncodeToString(want[:]) {
				t.Fatalf("sha256 %s, want %x", sum, want)
			}

			mod := time.Date(2026, 11, 26, 17, 45, 31, 0, time.UTC)
			var file bytes.Buffer
			zw := zip.NewWriter(&file)
			w, err := zw.CreateRaw(rawHeader("contacts.csv", mod, cp, crc))
			if err != nil {
				t.Fatal(err)
			}
			var compressed int64
			for _, c := range chunks {
				w.Write(c)
				compressed += int64(len(c))
			}
			w.Write(finalBlock)
			if compressed != cp.Compressed {
				t.Fatalf("chunks hold %d bytes, checkpoint says %d", compressed, cp.Compressed)
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(file.Bytes()), int64(file.Len()))
			if err != nil {
				t.Fatal(err)
			}
			f := zr.File[0]
			if !f.Modified.Equal(mod) || f.UncompressedSize64 != uint64(csv.Len()) {
				t.Fatalf("entry modified %v, %d bytes", f.Modified, f.UncompressedSize64)
			}
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc) // checks the CRC-32 and the size
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, csv.Bytes()) {
				t.Fatalf("entry reads %d bytes, want the %d of the CSV", len(got), csv.Len())
			}
		})
	}
}
