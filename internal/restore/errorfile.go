package restore

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"

	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/blobkey"
)

// ErrorHeader is the error CSV's header.
var ErrorHeader = []string{"Record ID", "Property", "Value", "Error"}

// errorChunk streams one chunk's refused values to a blob, created at the
// first one; a chunk without errors deletes what an earlier try wrote.
type errorChunk struct {
	ctx   context.Context
	blobs backup.Blobs
	key   string
	up    backup.Upload
	w     *csv.Writer
}

func (e *errorChunk) add(r ErrorRow) error {
	if e.up == nil {
		up, err := e.blobs.Create(e.ctx, e.key)
		if err != nil {
			return fmt.Errorf("error file: %w", err)
		}
		e.up, e.w = up, csv.NewWriter(up)
		e.w.UseCRLF = true
	}
	return e.w.Write([]string{r.RecordID, r.Property, r.Value, r.Error})
}

func (e *errorChunk) abort() {
	if e.up != nil {
		e.up.Abort()
	}
}

func (e *errorChunk) close() error {
	if e.up == nil {
		return e.blobs.Delete(e.ctx, e.key)
	}
	e.w.Flush()
	if err := e.w.Error(); err != nil {
		e.up.Abort()
		return fmt.Errorf("error file: %w", err)
	}
	return e.up.Close()
}

// joinErrors writes the import's error CSV from its chunks, in row order.
func (s *Service) joinErrors(ctx context.Context, im *Import) error {
	keys, err := s.Blobs.List(ctx, blobkey.ErrorChunks(im.AccountID, im.ID))
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	key := blobkey.ErrorFile(im.AccountID, im.ID)
	up, err := s.Blobs.Create(ctx, key)
	if err != nil {
		return err
	}
	w := csv.NewWriter(up)
	w.UseCRLF = true
	w.Write(ErrorHeader)
	w.Flush()
	if err := w.Error(); err != nil {
		up.Abort()
		return err
	}
	for _, k := range keys { // List returns keys in order; chunk keys sort by row
		rc, err := s.Blobs.Get(ctx, k)
		if err != nil {
			up.Abort()
			return err
		}
		_, err = io.Copy(up, rc)
		rc.Close()
		if err != nil {
			up.Abort()
			return fmt.Errorf("join %s: %w", k, err)
		}
	}
	if err := up.Close(); err != nil {
		return err
	}
	im.ErrorKey, im.ErrorRows = key, im.Counts.Failed
	return nil
}
