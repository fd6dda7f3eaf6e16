// Package s3local runs the local S3 stand-in (gofakes3) on loopback and
// gives an SDK client configured for it. The adapter code is the same as on
// AWS; only the endpoint differs.
package s3local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/spf13/afero"
)

// Backend makes gofakes3's storage.
type Backend func() (gofakes3.Backend, error)

// Memory keeps everything in memory (tests).
var Memory Backend = func() (gofakes3.Backend, error) { return s3mem.New(), nil }

// Disk keeps buckets as folders under dir (the local stack).
func Disk(dir string) Backend {
	return func() (gofakes3.Backend, error) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		return s3afero.MultiBucket(afero.NewBasePathFs(afero.NewOsFs(), dir))
	}
}

// Server is a running stand-in. It serves only requests signed with its
// own random keys (SigV4, presigned URLs until they expire), on loopback.
type Server struct {
	URL  string
	Keys Keys
	srv  *http.Server
}

// Start serves backend on a free loopback port with bucket created.
func Start(backend Backend, bucket string) (*Server, error) {
	return StartAt("127.0.0.1:0", backend, bucket)
}

// StartAt serves backend at addr with bucket created.
func StartAt(addr string, backend Backend, bucket string) (*Server, error) {
	be, err := backend()
	if err != nil {
		return nil, fmt.Errorf("s3 stand-in storage: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	fake := gofakes3.New(be, gofakes3.WithAutoBucket(true))
	keys := newKeys()
	s := &Server{URL: "http://" + ln.Addr().String(), Keys: keys,
		srv: &http.Server{Handler: verified(fake.Server(), keys, time.Now), ReadHeaderTimeout: 10 * time.Second}}
	go s.srv.Serve(ln)
	_, err = s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		s.Close()
		return nil, fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return s, nil
}

// Client returns an S3 client for the stand-in.
func (s *Server) Client() *s3.Client { return Client(s.URL, s.Keys) }

// Client returns an S3 client for a stand-in at url, signing with keys.
func Client(url string, keys Keys) *s3.Client {
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider(keys.AccessKey, keys.Secret, ""),
		BaseEndpoint:               aws.String(url),
		UsePathStyle:               true,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		// Over TLS (on AWS) the SDK signs S3 payloads as UNSIGNED-PAYLOAD;
		// over the stand-in's plain HTTP it would hash every byte instead.
		APIOptions: []func(*middleware.Stack) error{v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware},
	})
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }
