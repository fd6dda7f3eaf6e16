package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crmbackup/crmbackup/internal/backup"
)

// apiClient calls crmbackup's HTTP API as a user does.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func newAPIClient(base, token string) *apiClient {
	return &apiClient{base: base, token: token, http: &http.Client{
		Timeout:       2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// apiError is the API's JSON error.
type apiError struct {
	Status int
	Body   struct {
		Error struct {
			Code    string         `json:"code"`
			Message string         `json:"message"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
}

func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Body.Error.Code, e.Body.Error.Message)
}

// do sends a request and decodes a 2xx or 302 JSON answer into out.
func (c *apiClient) do(ctx context.Context, method, path string, body any, out any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		e := &apiError{Status: resp.StatusCode}
		json.Unmarshal(raw, &e.Body)
		return resp, fmt.Errorf("%s %s: %w", method, path, e)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return resp, nil
}

// backupView is a backup as the API shows it.
type backupView struct {
	backup.Backup
	Expired     bool   `json:"expired"`
	DownloadURL string `json:"downloadUrl"`
}

func (c *apiClient) createBackup(ctx context.Context) (*backupView, error) {
	var b backupView
	_, err := c.do(ctx, "POST", "/v1/backups", struct{}{}, &b)
	return &b, err
}

func (c *apiClient) backup(ctx context.Context, id string) (*backupView, error) {
	var b backupView
	_, err := c.do(ctx, "GET", "/v1/backups/"+id, nil, &b)
	return &b, err
}

// download saves a completed backup's ZIP into dir (the demo's).
func (c *apiClient) download(ctx context.Context, b *backupView, dir string) (string, error) {
	return c.fetch(ctx, b.DownloadURL, dir, b.FileName, nil)
}

// fetch follows the API's 302 at path to the presigned URL and saves the
// file into dir as name (0600, through a temporary file), streaming;
// progress, if set, sees every byte. It returns the file's path.
func (c *apiClient) fetch(ctx context.Context, path, dir, name string, progress func(total int64) io.Writer) (string, error) {
	resp, err := c.do(ctx, "GET", path, nil, nil)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Errorf("download: HTTP %d, want a 302 to the file", resp.StatusCode)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", resp.Header.Get("Location"), nil)
	if err != nil {
		return "", err
	}
	file, err := http.DefaultClient.Do(req) // presigned: no Authorization header
	if err != nil {
		return "", fmt.Errorf("download: %w", err)
	}
	defer file.Body.Close()
	if file.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download: the presigned link answered HTTP %d", file.StatusCode)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		name = filepath.Base(path) + ".download"
	}
	tmp, err := os.CreateTemp(dir, ".download-*") // 0600
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	var w io.Writer = tmp
	if progress != nil {
		w = io.MultiWriter(tmp, progress(file.ContentLength))
	}
	if _, err := io.Copy(w, file.Body); err != nil {
		tmp.Close()
		return "", fmt.Errorf("download: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, name)
	return dst, os.Rename(tmp.Name(), dst)
}
