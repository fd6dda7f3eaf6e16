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
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/blobkey"
	"github.com/crmbackup/crmbackup/internal/bufpool"
)

// Store is a bucket.
type Store struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string

	parts *bufpool.Pool // part buffers kept for the process's next uploads
}

// PartSize is the part size of streaming uploads: S3's minimum, which caps
// a streamed object at 10,000 parts, 48 GiB. An upload holds one part: it
// fills it, uploads it, and fills it again. (The SDK's transfer manager
// holds three parts and grows a fourth buffer while it reads the first, so
// its memory depended on the size of the file.) The zip step copies
// compressed chunks: it is I/O-bound on both sides, and one part in flight
// at a time costs it little.
const PartSize = 5 << 20

// New returns a store of bucket.
func New(client *s3.Client, bucket string) *Store {
	return &Store{client: client, presign: s3.NewPresignClient(client), bucket: bucket, parts: &bufpool.Pool{Max: 2}}
}

var _ backup.Blobs = (*Store)(nil)

// notFound maps S3's missing-key errors to apperr.NotFound. A read of a
// missing key by a caller without s3:ListBucket on the bucket (every
// function but those that list) is answered 403 AccessDenied, not 404
// (S3 does not tell a caller what it may not list): the functions' grants
// cover every key their code reads (a test checks it), so a 403 on a read
// is a missing file too, not a passing fault to retry.
func notFound(err error, key string) error {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var api smithy.APIError
	var resp *awshttp.ResponseError
	switch {
	case errors.As(err, &nsk) || errors.As(err, &nf) || errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound"):
		return &apperr.Error{Code: apperr.NotFound, Message: "no file " + key}
	case errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusForbidden:
		return &apperr.Error{Code: apperr.NotFound, Message: "no file " + key + " (S3 answered 403: it is missing, or this function may not read it)"}
	}
	return fmt.Errorf("s3 %s: %w", key, err)
}

// Put stores body at key.
func (s *Store) Put(ctx context.Context, key string, body []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
		ContentType: aws.String(blobkey.ContentType(key)),
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

// Create starts a streaming upload to key: one PUT if it ends within a
// part, a multipart upload otherwise. Nothing is visible at key before
// Close; Abort (or a failed Close) leaves nothing behind.
func (s *Store) Create(ctx context.Context, key string) (backup.Upload, error) {
	return &upload{s: s, ctx: ctx, key: key, buf: s.parts.Get(PartSize)}, nil
}

type upload struct {
	s     *Store
	ctx   context.Context
	key   string
	buf   []byte  // the part being filled
	id    *string // the multipart upload, once a part is full
	parts []types.CompletedPart
	err   error // the first failure; the upload is then aborted
	done  bool
}

func (u *upload) Write(p []byte) (int, error) {
	if u.done {
		return 0, fmt.Errorf("s3 upload %s: write after Close or Abort", u.key)
	}
	n := 0
	for u.err == nil && len(p) > 0 {
		if len(u.buf) == PartSize {
			u.fail(u.sendPart())
			continue
		}
		c := copy(u.buf[len(u.buf):PartSize], p)
		u.buf, p, n = u.buf[:len(u.buf)+c], p[c:], n+c
	}
	return n, u.err
}

// sendPart uploads the filled buffer as the next part.
func (u *upload) sendPart() error {
	if len(u.parts) == 10000 {
		return fmt.Errorf("s3 upload %s: more than 10,000 parts of %d bytes", u.key, PartSize)
	}
	if u.id == nil {
		out, err := u.s.client.CreateMultipartUpload(u.ctx, &s3.CreateMultipartUploadInput{
			Bucket: &u.s.bucket, Key: &u.key, ContentType: aws.String(blobkey.ContentType(u.key)),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return fmt.Errorf("s3 start upload %s: %w", u.key, err)
		}
		u.id = out.UploadId
	}
	n := int32(len(u.parts) + 1)
	out, err := u.s.client.UploadPart(u.ctx, &s3.UploadPartInput{
		Bucket: &u.s.bucket, Key: &u.key, UploadId: u.id, PartNumber: &n,
		Body: bytes.NewReader(u.buf), ContentLength: aws.Int64(int64(len(u.buf))),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return fmt.Errorf("s3 upload %s part %d: %w", u.key, n, err)
	}
	u.parts = append(u.parts, types.CompletedPart{PartNumber: &n, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	u.buf = u.buf[:0]
	return nil
}

// fail records the first error and aborts the multipart upload.
func (u *upload) fail(err error) {
	if err == nil || u.err != nil {
		return
	}
	u.err = err
	if u.id != nil {
		// A fresh context: the upload's may be what failed.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(u.ctx), 30*time.Second)
		defer cancel()
		if _, aerr := u.s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: &u.s.bucket, Key: &u.key, UploadId: u.id,
		}); aerr != nil {
			u.err = fmt.Errorf("%w (and aborting it: %v; the bucket's lifecycle rule removes it)", err, aerr)
		}
	}
}

// finish ends the upload once and gives its buffer back.
func (u *upload) finish(complete bool) error {
	if u.done {
		return u.err
	}
	u.done = true
	defer func() { u.s.parts.Put(u.buf); u.buf = nil }()
	switch {
	case u.err != nil:
	case !complete:
		u.fail(errAborted)
	case u.id == nil:
		_, err := u.s.client.PutObject(u.ctx, &s3.PutObjectInput{
			Bucket: &u.s.bucket, Key: &u.key, Body: bytes.NewReader(u.buf),
			ContentLength: aws.Int64(int64(len(u.buf))), ContentType: aws.String(blobkey.ContentType(u.key)),
		})
		if err != nil {
			u.err = fmt.Errorf("s3 put %s: %w", u.key, err)
		}
	default:
		if len(u.buf) > 0 {
			u.fail(u.sendPart())
		}
		if u.err == nil {
			_, err := u.s.client.CompleteMultipartUpload(u.ctx, &s3.CompleteMultipartUploadInput{
				Bucket: &u.s.bucket, Key: &u.key, UploadId: u.id,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts},
			})
			if err != nil {
				u.fail(fmt.Errorf("s3 complete upload %s: %w", u.key, err))
			}
		}
	}
	return u.err
}

// errAborted ends an aborted upload.
var errAborted = errors.New("upload aborted")

func (u *upload) Close() error { return u.finish(true) }

func (u *upload) Abort() error {
	if err := u.finish(false); !errors.Is(err, errAborted) {
		return err
	}
	return nil
}
