package main

import (
	"errors"
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
			return nil, fmt.Errorf("another crmbackup (pid %s) is using %s: stop it first, or give this one another -dir", cmp(pid, "?"), dir)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// noArgs refuses arguments after a command's flags.
func noArgs(name string, args []string) error {
	if len(args) > 0 {
		fmt.Fprintf(os.Stderr, "crmbackup %s: unexpected argument %q (flags go before it; `crmbackup %s -h` lists them)\n", name, args[0], name)
		return errUsage
	}
	return nil
}
