package s3local

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Keys are the stand-in's credentials: random per server, known only to
// the process that started it.
type Keys struct{ AccessKey, Secret string }

// String is keys as one word (for a benchmark's child process).
func (k Keys) String() string { return k.AccessKey + ":" + k.Secret }

// ParseKeys reads what String wrote.
func ParseKeys(s string) Keys {
	ak, secret, _ := strings.Cut(s, ":")
	return Keys{AccessKey: ak, Secret: secret}
}

func newKeys() Keys {
	b := make([]byte, 32)
	rand.Read(b)
	return Keys{AccessKey: "AKLOCALS3" + strings.ToUpper(hex.EncodeToString(b[:8])), Secret: hex.EncodeToString(b[8:])}
}

// maxSkew is how old a header-signed request may be, as S3 allows.
const maxSkew = 15 * time.Minute

// verified serves h only requests signed (SigV4, by header or presigned
// URL) with keys, unexpired; it answers no browser's CORS preflight and
// sends no CORS header, so no web page can read the stand-in.
func verified(h http.Handler, keys Keys, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			deny(w, "AccessForbidden", "CORS is not enabled on the stand-in")
			return
		}
		if code, msg := check(r, keys, now()); code != "" {
			deny(w, code, msg)
			return
		}
		h.ServeHTTP(&noCORS{ResponseWriter: w}, r)
	})
}

func deny(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusForbidden)
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>` + msg + `</Message></Error>`))
}

// noCORS drops the CORS headers gofakes3 sets on every answer.
type noCORS struct {
	http.ResponseWriter
	wrote bool
}

func (n *noCORS) WriteHeader(status int) {
	if n.wrote {
		return
	}
	n.wrote = true
	for k := range n.Header() {
		if strings.HasPrefix(k, "Access-Control-") {
			n.Header().Del(k)
		}
	}
	n.ResponseWriter.WriteHeader(status)
}

func (n *noCORS) Write(b []byte) (int, error) {
	n.WriteHeader(http.StatusOK)
	return n.ResponseWriter.Write(b)
}

// check recomputes the request's signature with keys: "" when it matches.
func check(r *http.Request, keys Keys, now time.Time) (code, msg string) {
	q := r.URL.Query()
	if sig := q.Get("X-Amz-Signature"); sig != "" {
		return checkPresigned(r, q, sig, keys, now)
	}
	auth := r.Header.Get("Authorization")
	cred, signed, sig, ok := parseAuthorization(auth)
	if !ok {
		return "AccessDenied", "a SigV4-signed request is required"
	}
	ak, region, ok := scope(cred)
	if !ok || ak != keys.AccessKey {
		return "InvalidAccessKeyId", "unknown access key"
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || now.Sub(at) > maxSkew || at.Sub(now) > maxSkew {
		return "RequestTimeTooSkewed", "the request's time is missing or too far from now"
	}
	req, _ := http.NewRequestWithContext(context.Background(), r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	req.Host = r.Host
	for _, h := range strings.Split(signed, ";") {
		switch h {
		case "host":
		case "content-length":
			req.ContentLength = r.ContentLength
		default:
			for _, v := range r.Header.Values(h) {
				req.Header.Add(h, v)
			}
		}
	}
	if !strings.Contains(";"+signed+";", ";content-length;") {
		req.ContentLength = 0
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = "UNSIGNED-PAYLOAD"
	}
	creds := aws.Credentials{AccessKeyID: keys.AccessKey, SecretAccessKey: keys.Secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, "s3", region, at,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }); err != nil {
		return "SignatureDoesNotMatch", err.Error()
	}
	_, _, want, _ := parseAuthorization(req.Header.Get("Authorization"))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return "SignatureDoesNotMatch", "the request's signature does not match"
	}
	return "", ""
}

func checkPresigned(r *http.Request, q url.Values, sig string, keys Keys, now time.Time) (code, msg string) {
	ak, region, ok := scope(q.Get("X-Amz-Credential"))
	if !ok || ak != keys.AccessKey {
		return "InvalidAccessKeyId", "unknown access key"
	}
	at, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	expires, eerr := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || eerr != nil || expires < 1 || expires > 7*24*3600 {
		return "AuthorizationQueryParametersError", "X-Amz-Date and X-Amz-Expires are required"
	}
	if now.After(at.Add(time.Duration(expires) * time.Second)) {
		return "AccessDenied", "Request has expired"
	}
	q.Del("X-Amz-Signature")
	u := *r.URL
	u.Scheme, u.Host, u.RawQuery = "http", r.Host, q.Encode()
	req, _ := http.NewRequestWithContext(context.Background(), r.Method, u.String(), nil)
	req.Host = r.Host
	for _, h := range strings.Split(q.Get("X-Amz-SignedHeaders"), ";") {
		if h != "host" && h != "" {
			for _, v := range r.Header.Values(h) {
				req.Header.Add(h, v)
			}
		}
	}
	creds := aws.Credentials{AccessKeyID: keys.AccessKey, SecretAccessKey: keys.Secret}
	signedURL, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "s3", region, at,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		return "SignatureDoesNotMatch", err.Error()
	}
	su, err := url.Parse(signedURL)
	if err != nil || !hmac.Equal([]byte(su.Query().Get("X-Amz-Signature")), []byte(sig)) {
		return "SignatureDoesNotMatch", "the URL's signature does not match"
	}
	return "", ""
}

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…".
func parseAuthorization(h string) (cred, signed, sig string, ok bool) {
	rest, found := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !found {
		return "", "", "", false
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		}
	}
	return cred, signed, sig, cred != "" && signed != "" && sig != ""
}

// scope reads "AK/20261202/us-east-1/s3/aws4_request".
func scope(cred string) (accessKey, region string, ok bool) {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[3] != "s3" || parts[4] != "aws4_request" {
		return "", "", false
	}
	return parts[0], parts[2], true
}
