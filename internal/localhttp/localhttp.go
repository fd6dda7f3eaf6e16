// Package localhttp is the HTTP client for AWS SDK clients of servers on
// this machine (DynamoDB Local, the tests' fakes of AWS services).
//
// smithy-go closes the request body it built as soon as the response
// headers arrive, and a closed body's WriteTo returns io.EOF; against a
// server on the same machine that can land while net/http still reads the
// body once more to check for extra bytes, and that io.EOF makes it close
// the connection under the response ("use of closed network connection").
// The client hands net/http its own copy of each request body instead.
// Bodies are buffered whole: for small JSON requests, not for uploads.
package localhttp

import (
	"bytes"
	"io"
	"net/http"
)

// Client returns an HTTP client whose transport copies request bodies.
func Client() *http.Client {
	return &http.Client{Transport: OwnBody{Next: http.DefaultTransport.(*http.Transport).Clone()}}
}

// OwnBody is a transport that gives Next its own copy of each body.
type OwnBody struct{ Next http.RoundTripper }

// RoundTrip sends r with a body of its own.
func (t OwnBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return t.Next.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	c := r.Clone(r.Context())
	c.Body = io.NopCloser(bytes.NewReader(body))
	c.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return t.Next.RoundTrip(c)
}
