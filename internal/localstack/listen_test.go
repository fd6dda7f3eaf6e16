package localstack_test

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// assertLoopbackOnly fails the test when a TCP socket that this test
// process or any process it started listens on is open beyond loopback:
// the local stack (API, emulator, S3 stand-in, DynamoDB Local, the Step
// Functions runner) can hold a real portal's CRM data.
func assertLoopbackOnly(t *testing.T) {
	t.Helper()
	ls, err := listeners()
	if err != nil {
		t.Skipf("cannot read the process tree's sockets: %v", err)
	}
	if len(ls) == 0 {
		t.Fatal("no listening socket found: the check would not see one")
	}
	for _, l := range ls {
		if !l.addr.IP.IsLoopback() {
			t.Errorf("pid %d (%s) listens on %s, beyond loopback", l.pid, l.comm, &l.addr)
		}
	}
}

type listener struct {
	pid  int
	comm string
	addr net.TCPAddr
}

// listeners lists the TCP sockets in LISTEN state held by this process and
// its descendants, from /proc (Linux).
func listeners() ([]listener, error) {
	parents := map[int]int{}
	comms := map[int]string{}
	procs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, err
	}
	for _, p := range procs {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue // the process ended
		}
		s := string(raw)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
		fields := strings.Fields(s[close+1:])
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		parents[pid], comms[pid] = ppid, s[open+1:close]
	}
	mine := map[int]bool{os.Getpid(): true}
	for changed := true; changed; {
		changed = false
		for pid, ppid := range parents {
			if mine[ppid] && !mine[pid] {
				mine[pid], changed = true, true
			}
		}
	}
	owner := map[string]int{}
	for pid := range mine {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, fd := range fds {
			link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
			if err == nil && strings.HasPrefix(link, "socket:[") {
				owner[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = pid
			}
		}
	}
	var out []listener
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // the header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" { // 0A: LISTEN
				continue
			}
			pid, ok := owner[fields[9]]
			if !ok {
				continue
			}
			addr, err := procAddr(fields[1])
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("%s: %w", table, err)
			}
			out = append(out, listener{pid, comms[pid], addr})
		}
		f.Close()
	}
	return out, nil
}

// procAddr decodes /proc/net/tcp's "0100007F:1F90": the address as 32-bit
// words in host (little-endian) order, the port in hex.
func procAddr(s string) (net.TCPAddr, error) {
	host, port, ok := strings.Cut(s, ":")
	raw, err := hex.DecodeString(host)
	if !ok || err != nil || len(raw)%4 != 0 {
		return net.TCPAddr{}, fmt.Errorf("address %q", s)
	}
	for i := 0; i < len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	p, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return net.TCPAddr{}, fmt.Errorf("port %q", s)
	}
	return net.TCPAddr{IP: net.IP(raw), Port: int(p)}, nil
}

func TestProcAddr(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0100007F:1F90", "127.0.0.1:8080"},
		{"00000000:0050", "0.0.0.0:80"},
		{"0000000000000000FFFF00000100007F:4E8B", "127.0.0.1:20107"},
		{"00000000000000000000000000000000:4E8B", "[::]:20107"},
		{"00000000000000000000000001000000:0016", "[::1]:22"},
	} {
		got, err := procAddr(c.in)
		if err != nil || got.String() != c.want {
			t.Errorf("procAddr(%s) = %v, %v; want %s", c.in, got.String(), err, c.want)
		}
	}
}
