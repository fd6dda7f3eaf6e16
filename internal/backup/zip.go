package backup

import (
	"archive/zip"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/blobkey"
)

// FormatVersion is the version of the ZIP layout and manifest.
const FormatVersion = 1

// ManifestName is the manifest's file name inside the ZIP.
const ManifestName = "manifest.json"

// Manifest describes a backup ZIP; a ZIP can be verified against it.
type Manifest struct {
	FormatVersion int              `json:"formatVersion"`
	BackupID      string           `json:"backupId"`
	AccountID     string           `json:"accountId"`
	PortalID      int64            `json:"portalId"`
	Trigger       Trigger          `json:"trigger"`
	RequestedBy   string           `json:"requestedBy,omitempty"`
	CreatedAt     time.Time        `json:"createdAt"`
	StartedAt     time.Time        `json:"startedAt"`
	CompletedAt   time.Time        `json:"completedAt"`
	Note          string           `json:"note"`
	Objects       []ManifestObject `json:"objects"`
	// Omitted says what the backup does not hold, and why.
	Omitted []Omission `json:"omitted,omitempty"`
}

// ManifestObject is one object of a backup. File is "" (and Bytes and SHA256
// are empty) for an object without records: it gets no CSV.
type ManifestObject struct {
	Name          string     `json:"name"`
	ObjectTypeID  string     `json:"objectTypeId"`
	Singular      string     `json:"singular"`
	Plural        string     `json:"plural"`
	Custom        bool       `json:"custom,omitempty"`
	File          string     `json:"file,omitempty"`
	Rows          int64      `json:"rows"`
	Bytes         int64      `json:"bytes"`
	SHA256        string     `json:"sha256,omitempty"`
	SnapshotStart time.Time  `json:"snapshotStart,omitzero"`
	SnapshotEnd   time.Time  `json:"snapshotEnd,omitzero"`
	IDColumn      string     `json:"idColumn"`
	Properties    []Property `json:"properties"`
}

// consistencyNote is said in every manifest and completion notification.
const consistencyNote = "Each object was read page by page over its snapshot interval; records " +
	"created, changed or deleted while the backup ran may not be reflected. Associations and " +
	"activity timelines other than calls and tasks are not included."

// Zip streams every object's chunks into one ZIP (one CSV per object with
// rows, no file for an object without) plus manifest.json, through a
// multipart upload: memory stays flat whatever the size. The chunks are
// already compressed: it copies them. Redoing it rewrites the same key.
func (s *Service) Zip(ctx context.Context, in ZipInput) (*ZipOutput, error) {
	b, err := s.Store.Backup(ctx, in.AccountID, in.BackupID)
	if err != nil {
		return nil, err
	}
	if b.Status != Running {
		return nil, apperr.New(apperr.Conflict, "backup %s is %s, not RUNNING", b.ID, b.Status)
	}
	d, err := s.discovery(ctx, in.AccountID, in.BackupID)
	if err != nil {
		return nil, err
	}
	done := map[string]Checkpoint{}
	for _, e := range in.Exports {
		done[e.Object] = e.Checkpoint
	}
	completed := s.now()
	out := &ZipOutput{FileName: FileName(d.PortalID, b.CreatedAt), CompletedAt: completed, Omitted: d.Omitted}
	out.Key = blobkey.ZIP(b.AccountID, b.ID, out.FileName)

	up, err := s.Blobs.Create(ctx, out.Key)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", out.Key, err)
	}
	fileHash := sha256.New()
	counter := &countWriter{}
	zw := zip.NewWriter(io.MultiWriter(up, fileHash, counter))
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed) // the manifest
	})
	man := Manifest{
		FormatVersion: FormatVersion, BackupID: b.ID, AccountID: b.AccountID, PortalID: d.PortalID,
		Trigger: b.Trigger, RequestedBy: b.RequestedBy, CreatedAt: b.CreatedAt, StartedAt: d.StartedAt,
		CompletedAt: completed, Note: consistencyNote, Omitted: d.Omitted,
	}
	fail := func(err error) (*ZipOutput, error) {
		if aerr := up.Abort(); aerr != nil {
			s.log().WarnContext(ctx, "aborting upload", "key", out.Key, "error", aerr)
		}
		return nil, err
	}
	for i := range d.Objects {
		obj := &d.Objects[i]
		cp, ok := done[obj.Name]
		if !ok || !cp.Done {
			return fail(apperr.New(apperr.Invalid, "object %s of backup %s was not exported to the end", obj.Name, b.ID))
		}
		mo := ManifestObject{
			Name: obj.Name, ObjectTypeID: obj.TypeID, Singular: obj.Singular, Plural: obj.Plural, Custom: obj.Custom,
			Rows: cp.Rows, SnapshotStart: cp.SnapshotStart, SnapshotEnd: cp.SnapshotEnd,
			IDColumn: obj.IDColumn, Properties: obj.Properties,
		}
		summary := ObjectSummary{Name: obj.Name, Rows: cp.Rows}
		if cp.Rows > 0 {
			mo.File, summary.File = obj.File, obj.File
			if mo.Bytes, mo.SHA256, err = s.writeObject(ctx, zw, in, obj, cp, completed); err != nil {
				return fail(err)
			}
		}
		man.Objects = append(man.Objects, mo)
		out.Objects = append(out.Objects, summary)
	}
	mw, err := zw.CreateHeader(&zip.FileHeader{Name: ManifestName, Method: zip.Deflate, Modified: completed})
	if err != nil {
		return fail(err)
	}
	enc := json.NewEncoder(mw)
	enc.SetIndent("", "  ")
	if err := enc.Encode(man); err != nil {
		return fail(err)
	}
	if err := zw.Close(); err != nil {
		return fail(fmt.Errorf("finish zip: %w", err))
	}
	if err := up.Close(); err != nil {
		return nil, fmt.Errorf("complete upload of %s: %w", out.Key, err)
	}
	out.Size, out.SHA256 = counter.n, hex.EncodeToString(fileHash.Sum(nil))
	return out, nil
}

// writeObject writes one object's CSV entry: its chunks, compressed by the
// export, in order, then the final deflate block. It returns the CSV's size
// and SHA-256.
func (s *Service) writeObject(ctx context.Context, zw *zip.Writer, in ZipInput, obj *Object, cp Checkpoint, mod time.Time) (int64, string, error) {
	if len(cp.Ranges) > 0 {
		return s.writeRanges(ctx, zw, in, obj, cp, mod)
	}
	state, err := s.chunkState(ctx, in.StepInput, obj.Name, cp.Chunks-1)
	if err != nil {
		return 0, "", err
	}
	crc, sum, err := csvSums(state)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", obj.Name, err)
	}
	w, err := zw.CreateRaw(rawHeader(obj.File, mod, cp, crc))
	if err != nil {
		return 0, "", err
	}
	c := &countWriter{}
	dst := io.MultiWriter(w, c)
	for n := range cp.Chunks {
		if err := copyBlob(ctx, s.Blobs, dst, blobkey.Chunk(in.AccountID, in.BackupID, obj.Name, n)); err != nil {
			return 0, "", fmt.Errorf("%s chunk %d: %w", obj.Name, n, err)
		}
	}
	if c.n != cp.Compressed {
		return 0, "", fmt.Errorf("%s: its %d chunks hold %d bytes, the export wrote %d", obj.Name, cp.Chunks, c.n, cp.Compressed)
	}
	if _, err := w.Write(finalBlock); err != nil {
		return 0, "", err
	}
	return cp.Bytes, sum, nil
}

// writeRanges writes the entry of an object read as ranges: their chunks in
// id order. The entry's CRC-32 is combined from the ranges' own; the
// SHA-256 of the whole CSV, which no range knows, is taken by inflating the
// entry's data as it is copied (the one place the zip step reads CSV).
func (s *Service) writeRanges(ctx context.Context, zw *zip.Writer, in ZipInput, obj *Object, cp Checkpoint, mod time.Time) (int64, string, error) {
	ranges := slices.Clone(cp.Ranges)
	slices.SortFunc(ranges, func(a, b Range) int { return cmp.Compare(a.Lo, b.Lo) })
	var crc uint32
	for _, r := range ranges {
		if r.Chunks == 0 {
			continue
		}
		state, err := s.chunkState(ctx, in.StepInput, RangeName(obj.Name, r.ID), r.Chunks-1)
		if err != nil {
			return 0, "", err
		}
		rc, err := restoreState(state, sha256.New())
		if err != nil {
			return 0, "", fmt.Errorf("%s range %d: %w", obj.Name, r.ID, err)
		}
		crc = crc32Combine(crc, rc, r.Bytes)
	}
	w, err := zw.CreateRaw(rawHeader(obj.File, mod, cp, crc))
	if err != nil {
		return 0, "", err
	}
	pr, pw := io.Pipe()
	type sums struct {
		n   int64
		sha string
		err error
	}
	done := make(chan sums, 1)
	go func() {
		h := sha256.New()
		n, err := io.Copy(h, flate.NewReader(pr))
		pr.CloseWithError(err) // unblocks the copy when inflating failed
		done <- sums{n, hex.EncodeToString(h.Sum(nil)), err}
	}()
	c := &countWriter{}
	dst := io.MultiWriter(w, c, pw)
	copyAll := func() error {
		for _, r := range ranges {
			for n := range r.Chunks {
				if err := copyBlob(ctx, s.Blobs, dst, blobkey.Chunk(in.AccountID, in.BackupID, RangeName(obj.Name, r.ID), n)); err != nil {
					return fmt.Errorf("%s range %d chunk %d: %w", obj.Name, r.ID, n, err)
				}
			}
		}
		if c.n != cp.Compressed {
			return fmt.Errorf("%s: its ranges' chunks hold %d bytes, the export wrote %d", obj.Name, c.n, cp.Compressed)
		}
		_, err := io.MultiWriter(w, pw).Write(finalBlock)
		return err
	}
	err = copyAll()
	pw.CloseWithError(err)
	sum := <-done
	if err != nil {
		return 0, "", err
	}
	if sum.err != nil {
		return 0, "", fmt.Errorf("%s: its chunks do not inflate: %w", obj.Name, sum.err)
	}
	if sum.n != cp.Bytes {
		return 0, "", fmt.Errorf("%s: its chunks inflate to %d bytes, the export wrote %d", obj.Name, sum.n, cp.Bytes)
	}
	return cp.Bytes, sum.sha, nil
}

func copyBlob(ctx context.Context, blobs Blobs, dst io.Writer, key string) error {
	rc, err := blobs.Get(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(dst, rc)
	return err
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
