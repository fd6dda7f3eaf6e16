package backup

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
)

// VerifyReport is what Verify found, per object.
type VerifyReport struct {
	Manifest *Manifest
	Objects  []VerifiedObject
}

// VerifiedObject is one object's verification.
type VerifiedObject struct {
	Name, File string
	Rows       int64
	Bytes      int64
	OK         bool
	Problem    string
}

// Verify checks a backup ZIP against its manifest: every listed file is
// present with the listed size, SHA-256 and row count, no object without
// records has a file, and nothing else is in the ZIP. It reads each file
// once, streaming.
func Verify(r io.ReaderAt, size int64) (*VerifyReport, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("open zip: %w", err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	mf, ok := files[ManifestName]
	if !ok {
		return nil, fmt.Errorf("no %s in the zip", ManifestName)
	}
	var man Manifest
	if err := readJSON(mf, &man); err != nil {
		return nil, fmt.Errorf("read %s: %w", ManifestName, err)
	}
	if man.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("manifest format %d, this tool reads %d", man.FormatVersion, FormatVersion)
	}
	rep := &VerifyReport{Manifest: &man}
	listed := map[string]bool{ManifestName: true}
	for _, o := range man.Objects {
		v := VerifiedObject{Name: o.Name, File: o.File, Rows: o.Rows}
		switch {
		case o.File == "" && o.Rows != 0:
			v.Problem = fmt.Sprintf("%d rows but no file", o.Rows)
		case o.File == "":
			v.OK = true
		case files[o.File] == nil:
			v.Problem = "file " + o.File + " missing"
		default:
			listed[o.File] = true
			v.Bytes, v.Problem = checkFile(files[o.File], o)
			v.OK = v.Problem == ""
		}
		rep.Objects = append(rep.Objects, v)
	}
	for name := range files {
		if !listed[name] {
			rep.Objects = append(rep.Objects, VerifiedObject{Name: name, File: name, Problem: "not in the manifest"})
		}
	}
	return rep, nil
}

// OK reports whether every object verified.
func (r *VerifyReport) OK() bool {
	for _, o := range r.Objects {
		if !o.OK {
			return false
		}
	}
	return true
}

func checkFile(f *zip.File, o ManifestObject) (int64, string) {
	rc, err := f.Open()
	if err != nil {
		return 0, err.Error()
	}
	defer rc.Close()
	h := sha256.New()
	rows := &rowCounter{}
	n, err := io.Copy(io.MultiWriter(h, rows), rc)
	if err != nil {
		return n, "read: " + err.Error()
	}
	switch got := hex.EncodeToString(h.Sum(nil)); {
	case n != o.Bytes:
		return n, fmt.Sprintf("%d bytes, manifest says %d", n, o.Bytes)
	case got != o.SHA256:
		return n, "sha256 " + got + " differs from the manifest's"
	case rows.records-1 != o.Rows:
		return n, fmt.Sprintf("%d rows, manifest says %d", rows.records-1, o.Rows)
	}
	return n, ""
}

// rowCounter counts CSV records (CRLF or LF outside quotes) as bytes pass.
type rowCounter struct {
	quoted  bool
	records int64
}

func (c *rowCounter) Write(p []byte) (int, error) {
	for _, b := range p {
		switch {
		case b == '"':
			c.quoted = !c.quoted
		case b == '\n' && !c.quoted:
			c.records++
		}
	}
	return len(p), nil
}
