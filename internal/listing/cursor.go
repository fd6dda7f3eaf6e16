package listing

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
)

// Cursor is where a page of a list ended, as the API hands it out: opaque
// to callers, and bound to the account and the list it was made for.
//
// It is not signed, by design: it is a position, not a capability. Every
// read is confined to the caller's own partition by the account the
// authenticated caller belongs to, whatever the cursor says, so a forged
// position can only reach what the caller may list anyway. What the cursor
// guards against is mistakes: a cursor of another account or list, one
// cut short or altered by hand, is refused with a 400 instead of silently
// starting somewhere else.
type Cursor struct {
	Account string
	List    string
	Query   Query
	// Filter is the list's own filter the cursor continues (the audit
	// log's action), "" when none.
	Filter string
}

type wireCursor struct {
	V      int    `json:"v"`
	A      string `json:"a"`
	L      string `json:"l"`
	K      string `json:"k"`
	O      bool   `json:"o,omitempty"`
	From   int64  `json:"f,omitempty"` // Unix ms
	To     int64  `json:"t,omitempty"`
	Filter string `json:"x,omitempty"`
}

// Encode makes the cursor's opaque form: base64url of its JSON and a CRC-32.
func (c Cursor) Encode() string {
	w := wireCursor{V: 1, A: c.Account, L: c.List, K: c.Query.After, O: c.Query.Oldest, Filter: c.Filter}
	if !c.Query.From.IsZero() {
		w.From = c.Query.From.UnixMilli()
	}
	if !c.Query.To.IsZero() {
		w.To = c.Query.To.UnixMilli()
	}
	body, err := json.Marshal(w)
	if err != nil {
		panic(err) // strings, ints and a bool
	}
	body = binary.BigEndian.AppendUint32(body, crc32.ChecksumIEEE(body))
	return base64.RawURLEncoding.EncodeToString(body)
}

// Decode reads a cursor that Encode made for account's list: apperr.Invalid
// if it is damaged, made up, or another account's or list's.
func Decode(s, account, list string) (Cursor, error) {
	bad := apperr.New(apperr.Invalid, "the cursor is not valid: pass the next cursor of a previous page unchanged")
	if len(s) > 512 {
		return Cursor{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < 5 {
		return Cursor{}, bad
	}
	body, sum := raw[:len(raw)-4], binary.BigEndian.Uint32(raw[len(raw)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return Cursor{}, bad
	}
	var w wireCursor
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil || w.V != 1 || w.K == "" {
		return Cursor{}, bad
	}
	if w.A != account || w.L != list {
		return Cursor{}, apperr.New(apperr.Invalid, "the cursor belongs to another list or account")
	}
	c := Cursor{Account: w.A, List: w.L, Filter: w.Filter, Query: Query{After: w.K, Oldest: w.O}}
	if w.From != 0 {
		c.Query.From = time.UnixMilli(w.From).UTC()
	}
	if w.To != 0 {
		c.Query.To = time.UnixMilli(w.To).UTC()
	}
	if err := c.Query.Check(); err != nil {
		return Cursor{}, bad
	}
	return c, nil
}
