package emulator

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
)

// Conversation (inbox) threads: not CRM objects, so they are kept as raw JSON
// fields (see thread) and listed by their own endpoint with a larger page.

// listThreads answers a page of threads in id order.
func (s *Server) listThreads(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.granted(w, "conversations.read") {
		return
	}
	limit, after, ok := s.pageParams(w, r, maxThreadsPage, parseThreadCursor)
	if !ok {
		return
	}
	archived := archivedParam(r)
	var buf bytes.Buffer
	buf.WriteString(`{"results":[`)
	n, next := 0, int64(0)
	start, _ := slices.BinarySearchFunc(s.threads, after, func(t thread, id int64) int {
		return cmpInt(t.id, id)
	})
	for _, th := range s.threads[start:] {
		if threadArchived(th) != archived {
			continue
		}
		if n == limit {
			next = th.id
			break
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('{')
		for i, f := range th.fields {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(rawString(f.name))
			buf.WriteByte(':')
			buf.Write(f.value)
		}
		buf.WriteByte('}')
		n++
	}
	buf.WriteByte(']')
	if next != 0 {
		buf.Write(appendPaging(buf.AvailableBuffer(), r.URL.Path, threadCursor(next)))
	}
	buf.WriteByte('}')
	writeJSONHeader(w, http.StatusOK)
	w.Write(buf.Bytes())
}

// threadArchived reports whether th's archived field is true.
func threadArchived(th thread) bool {
	for _, f := range th.fields {
		if f.name == "archived" {
			return string(f.value) == "true"
		}
	}
	return false
}

// cmpInt compares ids for sorting and searching threads.
func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Thread cursors are opaque, as HubSpot's are (a client must not read or
// build them): the next thread's id, encoded.
func threadCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("thread:" + strconv.FormatInt(id, 10)))
}

func parseThreadCursor(v string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || !bytes.HasPrefix(b, []byte("thread:")) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b[len("thread:"):]), 10, 64)
	return n, err == nil && n >= 0
}
