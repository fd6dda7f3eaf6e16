// Package s3store implements backup.Blobs on Amazon S3 (and on any
// S3-compatible stand-in, such as gofakes3 locally).
package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
)

// Store is a bucket.
type Store struct {
	client  *s3.Client
	presign *s3.PresignClient
	tm      *transfermanager.Client
	bucket  string
}

// PartSize is the multipart part size of streaming uploads: S3's minimum,
// which caps a streamed object at 10,000 parts, 48 GiB. One part uploads
// while the next fills, so an upload holds at most two parts, whatever the
// file's size: a small ZIP fills one, every larger one two. The zip step
// writes compressed bytes (~40 MB/s) slower than one connection uploads
// them within a region, so more parts in flight would buy memory, not speed.
const (
	PartSize          = 5 << 20
	uploadConcurrency = 1
)

// New returns a store of bucket.
func New(client *s3.Client, bucket string) *Store {
	return &Store{
		client:  client,
		presign: s3.NewPresignClient(client),
		tm: transfermanager.New(client, func(o *transfermanager.Options) {
			o.PartSizeBytes = PartSize
			o.Concurrency = uploadConcurrency
			// The manager reads up to this much before it decides on a
			// multipart upload, into a buffer of its own (16 MiB by default).
			o.MultipartUploadThreshold = PartSize
		}),
		bucket: bucket,
	}
}

var _ backup.Blobs = (*Store)(nil)

// notFound maps S3's missing-key errors to apperr.NotFound.
func notFound(err error, key string) error {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var api smithy.APIError
	if errors.As(err, &nsk) || errors.As(err, &nf) || errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound") {
		return &apperr.Error{Code: apperr.NotFound, Message: "no file " + key}
	}
	return fmt.Errorf("s3 %s: %w", key, err)
}

// Put stores body at key.
func (s *Store) Put(ctx context.Context, key string, body []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
	})
	if err != nil {
		return fmt.Errorf("s3 put %s: %w", key, err)
	}
	return nil
}

// Get streams the file at key.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, notFound(err, key)
	}
	return out.Body, nil
}

// GetRange streams n bytes of key from offset off.
func (s *Store) GetRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if off < 0 || n <= 0 {
		return nil, fmt.Errorf("s3 range of %s: offset %d, length %d", key, off, n)
	}
	rng := "bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+n-1, 10)
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key, Range: &rng})
	if err != nil {
		return nil, notFound(err, key)
	}
	return out.Body, nil
}

// Size returns the size of the file at key.
func (s *Store) Size(ctx context.Context, key string) (int64, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return 0, notFound(err, key)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// List returns the keys under prefix.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3 list %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// Delete removes keys (missing ones are fine), 1,000 per request.
func (s *Store) Delete(ctx context.Context, keys ...string) error {
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		objs := make([]types.ObjectIdentifier, n)
		for i, k := range keys[:n] {
			objs[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &s.bucket, Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("s3 delete %d keys: %w", n, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("s3 delete %s: %s %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		keys = keys[n:]
	}
	return nil
}

// PresignGet returns a URL that downloads key as an attachment named fileName.
func (s *Store) PresignGet(ctx context.Context, key, fileName string, ttl time.Duration) (string, error) {
	disp := mime.FormatMediaType("attachment", map[string]string{"filename": fileName})
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: &s.bucket, Key: &key, ResponseContentDisposition: &disp,
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("s3 presign %s: %w", key, err)
	}
	return req.URL, nil
}

// Create starts a streaming multipart upload to key.
func (s *Store) Create(ctx context.Context, key string) (backup.Upload, error) {
	pr, pw := io.Pipe()
	u := &upload{pw: pw, done: make(chan error, 1), key: key}
	go func() {
		_, err := s.tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
			Bucket: &s.bucket, Key: &key, Body: pr, ContentType: aws.String("application/zip"),
		})
		pr.CloseWithError(err) // unblock a writer if the upload failed
		u.done <- err
	}()
	return u, nil
}

// errAborted ends an aborted upload; the transfer manager then aborts the
// multipart upload, so nothing appears at the key.
var errAborted = errors.New("upload aborted")

type upload struct {
	pw   *io.PipeWriter
	done chan error
	key  string
	err  error
	shut bool
}

func (u *upload) Write(p []byte) (int, error) { return u.pw.Write(p) }

func (u *upload) finish(cause error) error {
	if u.shut {
		return u.err
	}
	u.shut = true
	u.pw.CloseWithError(cause)
	if err := <-u.done; err != nil {
		u.err = fmt.Errorf("s3 upload %s: %w", u.key, err)
	}
	return u.err
}

func (u *upload) Close() error { return u.finish(nil) }

func (u *upload) Abort() error {
	err := u.finish(errAborted)
	if errors.Is(err, errAborted) {
		return nil
	}
	return err
}
