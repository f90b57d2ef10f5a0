package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tcpConns lists pid's TCP connections in state (hex, as /proc/net/tcp writes it: "01"
// ESTABLISHED, "08" CLOSE_WAIT) whose local (local=true) or remote port is port.
func tcpConns(pid, port int, local bool, state string) int {
	owned := map[string]bool{}
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			owned[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"tcp", "tcp6"} {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != state || !owned[f[9]] {
				continue
			}
			addr := f[2]
			if local {
				addr = f[1]
			}
			i := strings.LastIndexByte(addr, ':')
			p, _ := strconv.ParseInt(addr[i+1:], 16, 32)
			if int(p) == port {
				n++
			}
		}
	}
	return n
}

// closerPIDs lists the closers that watch pid.
func closerPIDs(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		if strings.Contains(string(cmd), "__closer") && strings.Contains(string(cmd), fmt.Sprintf(`"pid":%d,`, pid)) {
			out = append(out, p)
		}
	}
	return out
}

// TestSafeSessionOutlivesAKilledRun: nodeinspect SIGKILLed with a command unanswered (the
// target is stopped mid-session, so its answer cannot have come) does not end its session:
// the closer holds a copy of the session's socket, so the target's side stays ESTABLISHED
// (a client that left would put it in CLOSE_WAIT, and Node 20's inspector may crash writing
// the answer to it: nodejs/node#64209). Once the target runs again, the closer closes the
// inspector, the session ends from the target's side, and the target is unharmed.
func TestSafeSessionOutlivesAKilledRun(t *testing.T) {
	t.Parallel()
	p, inspPort := safeTarget(t)
	// --sample 500ms: the session stays open at least that long (the loop delay window).
	n := startNI(t, safeEnv(t), "report", strconv.Itoa(p.PID), "--json", "--attach", "--sample", "500ms")
	connected := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if tcpConns(n.cmd.Process.Pid, inspPort, false, "01") > 0 {
			connected = true
			break
		}
	}
	if !connected {
		t.Fatalf("nodeinspect never connected to the inspector on port %d; stderr %s", inspPort, n.err.String())
	}
	if err := syscall.Kill(p.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			_ = syscall.Kill(p.PID, syscall.SIGCONT)
		}
	}()
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	n.wait(t, 5*time.Second)

	// The closer holds the session: give it up to 2 s to be seen (the /proc reads race
	// nothing: the target is stopped, so nothing can end the session from its side).
	held, targetSide, closeWait := 0, 0, 0
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		held = 0
		for _, c := range closerPIDs(p.PID) {
			held += tcpConns(c, inspPort, false, "01")
		}
		targetSide = tcpConns(p.PID, inspPort, true, "01")
		closeWait = tcpConns(p.PID, inspPort, true, "08")
		if held > 0 && targetSide > 0 {
			break
		}
	}
	if held == 0 {
		t.Errorf("no closer holds a connection to the inspector on port %d after nodeinspect was killed mid-session (closers %v)", inspPort, closerPIDs(p.PID))
	}
	if targetSide == 0 || closeWait > 0 {
		t.Errorf("the target's side of the session: %d ESTABLISHED, %d CLOSE_WAIT; want it still ESTABLISHED (no client left with an answer pending)", targetSide, closeWait)
	}
	_ = syscall.Kill(p.PID, syscall.SIGCONT)
	stopped = false
	// closeGrace, plus the closer's wait on a stopped target (it acts within a poll once
	// the target runs) and the close it then sends.
	left, harmed := unharmed(t, p, closeGrace+2*time.Second)
	if n := len(closerPIDs(p.PID)); n > 0 && !harmed {
		t.Logf("%d closer(s) still running after the target's SIGTERM (they end when it exits)", n)
	}
	sweepCase(t, left, harmed)
}
