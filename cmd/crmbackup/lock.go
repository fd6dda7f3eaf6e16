package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockDir takes the lock of a data folder (a file beside it, so clearing
// the folder keeps it): a second demo or local stack on the same folder
// stops with who holds it, instead of wiping the first one's data.
func lockDir(dir string) (unlock func(), err error) {
	path := filepath.Clean(dir) + ".lock"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(holder))
			return nil, fmt.Errorf("another crmbackup (pid %s) is using %s: stop it first, or give this one another -dir", cmp.Or(pid, "?"), dir)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// begin reads the command line of a command that runs the local stack in
// dir (demo, local) — its flags, no argument after them, values the stack
// would fail on minutes later — and takes the folder's lock.
func begin(name string, fs *flag.FlagSet, args []string, stack *stackFlags, dir *string) (unlock func(), err error) {
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if rest := fs.Args(); len(rest) > 0 {
		fmt.Fprintf(os.Stderr, "crmbackup %s: unexpected argument %q (flags go before it; `crmbackup %s -h` lists them)\n", name, rest[0], name)
		return nil, errUsage
	}
	if err := stack.check(); err != nil {
		return nil, err
	}
	return lockDir(*dir) // read after parse: the folder -dir names
}
