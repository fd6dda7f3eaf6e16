// Package console serves the admin console's built files (make console
// bundles console/ into dist/, which the binary embeds) with the headers
// the deployed console gets from CloudFront: a strict content security
// policy without 'unsafe-inline', no framing, no sniffing, no referrer.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
)

//go:embed all:dist
var dist embed.FS

// Files are the built console (index.html, console.js, console.css), or
// only a README when it was not built.
func Files() fs.FS {
	sub, _ := fs.Sub(dist, "dist")
	return sub
}

// Built reports whether the console was built into the binary.
func Built() bool {
	_, err := fs.Stat(Files(), "console.js")
	return err == nil
}

// CSP is the console's content security policy (the deployed stack's
// CloudFront response headers policy sets the same, with the managed
// login's host in connect-src: there too the API is at the console's own
// origin).
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handles reports whether the console serves path: the page and its files.
func Handles(p string) bool {
	switch p {
	case "/", "/index.html", "/console.js", "/console.css":
		return true
	}
	return false
}

// Handler serves the console's files.
func Handler() http.Handler {
	files := http.FileServerFS(Files())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-cache")
		if !Built() {
			h.Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("The console was not built into this binary: run `make console` (or `make local`), then start it again.\n"))
			return
		}
		if path.Clean(r.URL.Path) == "/index.html" {
			r.URL.Path = "/"
		}
		files.ServeHTTP(w, r)
	})
}
