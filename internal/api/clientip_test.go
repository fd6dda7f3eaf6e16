package api

import (
	"net/http/httptest"
	"testing"
)

// The audit log's ip: the viewer's address from CloudFront-Viewer-Address
// only on a request that carries the distribution's secret; the TCP peer's
// (API Gateway's sourceIp) otherwise, so that a caller of the HTTP API's own
// URL cannot choose the address recorded for it.
func TestClientIP(t *testing.T) {
	const secret = "s3cr3t-from-the-stack"
	const peer = "203.0.113.7:443"
	for _, tc := range []struct {
		name    string
		secret  string            // the server's OriginSecret
		headers map[string]string // the request's
		want    string
	}{
		{"no distribution configured, header with a secret", "", map[string]string{OriginHeader: "", viewerAddressHeader: "198.51.100.10:46532"}, "203.0.113.7"},
		// The api could not read the secret at cold start (awswire logs a
		// warning and starts without it): the distribution's own requests
		// get the connection's address too.
		{"secret unread at cold start, a request through the distribution", "", map[string]string{OriginHeader: secret, viewerAddressHeader: "198.51.100.10:46532"}, "203.0.113.7"},
		{"direct call, no header", secret, nil, "203.0.113.7"},
		{"through the distribution", secret, map[string]string{OriginHeader: secret, viewerAddressHeader: "198.51.100.10:46532"}, "198.51.100.10"},
		{"through the distribution, IPv6", secret, map[string]string{OriginHeader: secret, viewerAddressHeader: "2001:db8::8a2e:370:7334:46532"}, "2001:db8::8a2e:370:7334"},
		{"through the distribution, IPv6 in brackets", secret, map[string]string{OriginHeader: secret, viewerAddressHeader: "[2001:db8::1]:443"}, "2001:db8::1"},
		{"forged viewer address without the secret", secret, map[string]string{viewerAddressHeader: "192.0.2.1:1234"}, "203.0.113.7"},
		{"forged viewer address with a wrong secret", secret, map[string]string{OriginHeader: "guess", viewerAddressHeader: "192.0.2.1:1234"}, "203.0.113.7"},
		{"forged viewer address with a prefix of the secret", secret, map[string]string{OriginHeader: secret[:5], viewerAddressHeader: "192.0.2.1:1234"}, "203.0.113.7"},
		{"the secret, no viewer address", secret, map[string]string{OriginHeader: secret}, "203.0.113.7"},
		{"the secret, a viewer address that is no address", secret, map[string]string{OriginHeader: secret, viewerAddressHeader: "evil.example:80"}, "203.0.113.7"},
		{"the secret, a viewer address without a port", secret, map[string]string{OriginHeader: secret, viewerAddressHeader: "198.51.100.10"}, "203.0.113.7"},
		{"the secret, an address with a zone", secret, map[string]string{OriginHeader: secret, viewerAddressHeader: "fe80::1%eth0:80"}, "203.0.113.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/v1/backups", nil)
			r.RemoteAddr = peer
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			s := &Server{OriginSecret: tc.secret}
			if got := s.clientIP(r); got != tc.want {
				t.Errorf("clientIP = %q, want %q", got, tc.want)
			}
		})
	}
	// Two viewer addresses (one forged, one CloudFront's) are not one.
	r := httptest.NewRequest("GET", "/v1/backups", nil)
	r.RemoteAddr = peer
	r.Header.Set(OriginHeader, secret)
	r.Header.Add(viewerAddressHeader, "192.0.2.1:1")
	r.Header.Add(viewerAddressHeader, "198.51.100.10:2")
	if got := (&Server{OriginSecret: secret}).clientIP(r); got != "203.0.113.7" {
		t.Errorf("two viewer addresses: %q", got)
	}
}
