package backup

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"

	"github.com/crmbackup/crmbackup/internal/apperr"
)

// Archive is a backup ZIP opened where it is stored: its directory and
// manifest are read with a few ranged reads, and an object's CSV streams
// through a read-ahead window — the ZIP is never downloaded or held whole.
type Archive struct {
	Manifest Manifest
	zr       *zip.Reader
}

// ReadAheadBytes is the window an Archive reads ahead (one ranged GET each).
const ReadAheadBytes = 4 << 20

// OpenArchive opens the ZIP at key.
func OpenArchive(ctx context.Context, blobs Blobs, key string) (*Archive, error) {
	size, err := blobs.Size(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open backup %s: %w", key, err)
	}
	zr, err := zip.NewReader(&rangeReader{ctx: ctx, blobs: blobs, key: key, size: size}, size)
	if err != nil {
		return nil, fmt.Errorf("open backup %s: %w", key, err)
	}
	zr.RegisterDecompressor(zip.Deflate, flate.NewReader)
	a := &Archive{zr: zr}
	for _, f := range zr.File {
		if f.Name == ManifestName {
			if err := readJSON(f, &a.Manifest); err != nil {
				return nil, fmt.Errorf("manifest of %s: %w", key, err)
			}
			return a, nil
		}
	}
	return nil, fmt.Errorf("backup %s has no %s", key, ManifestName)
}

// Object returns the manifest's entry for an object (by name or type id).
func (a *Archive) Object(nameOrTypeID string) (*ManifestObject, error) {
	for i, o := range a.Manifest.Objects {
		if o.Name == nameOrTypeID || o.ObjectTypeID == nameOrTypeID {
			return &a.Manifest.Objects[i], nil
		}
	}
	return nil, apperr.New(apperr.Invalid, "the backup holds no object %q", nameOrTypeID)
}

// Rows streams an object's CSV: first the header, then one record per row.
// An object without records yields nothing.
func (a *Archive) Rows(o *ManifestObject) (*CSVReader, io.Closer, error) {
	if o.File == "" {
		return NewCSVReader(eofReader{}), io.NopCloser(nil), nil
	}
	for _, f := range a.zr.File {
		if f.Name == o.File {
			rc, err := f.Open()
			if err != nil {
				return nil, nil, fmt.Errorf("open %s: %w", o.File, err)
			}
			r := NewCSVReader(rc)
			r.FieldsPerRecord = len(o.Properties) + 1
			return r, rc, nil
		}
	}
	return nil, nil, fmt.Errorf("the backup has no file %s", o.File)
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// rangeReader is an io.ReaderAt over a blob that fetches ReadAheadBytes at a
// time and serves reads inside that window from memory.
type rangeReader struct {
	ctx   context.Context
	blobs Blobs
	key   string
	size  int64

	mu     sync.Mutex
	off    int64
	window []byte
}

func (r *rangeReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= r.size {
		return 0, io.EOF
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for n < len(p) && off < r.size {
		if off < r.off || off >= r.off+int64(len(r.window)) {
			if err := r.fill(off, int64(len(p)-n)); err != nil {
				return n, err
			}
		}
		c := copy(p[n:], r.window[off-r.off:])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// fill loads the window starting at off (at least want bytes, up to the end).
func (r *rangeReader) fill(off, want int64) error {
	n := min(max(want, ReadAheadBytes), r.size-off)
	rc, err := r.blobs.GetRange(r.ctx, r.key, off, n)
	if err != nil {
		return fmt.Errorf("read %s at %d: %w", r.key, off, err)
	}
	defer rc.Close()
	if int64(cap(r.window)) < n {
		r.window = make([]byte, n)
	}
	r.window = r.window[:n]
	if _, err := io.ReadFull(rc, r.window); err != nil {
		r.window = r.window[:0]
		return fmt.Errorf("read %s at %d: %w", r.key, off, err)
	}
	r.off = off
	return nil
}

func readJSON(f *zip.File, v any) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return json.NewDecoder(rc).Decode(v)
}
