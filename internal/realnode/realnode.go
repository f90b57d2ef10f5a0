// Package realnode starts real Node.js processes from testdata/node scripts for tests, and
// cleans up every process it started, by pid.
package realnode

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is a started Node.js process and what its ready line said.
type Proc struct {
	PID      int
	Port     int
	Children []int
	// Ready is the whole ready line.
	Ready map[string]any
	cmd   *exec.Cmd
}

// Option changes how a script is started.
type Option func(*start)

type start struct {
	args      []string
	nodeFlags []string
	nofile    int
	shell     bool
	netns     bool
	loDown    bool
	runAs     int
	pidns     bool
	cgroups   []string
}

// RunAs runs node as user and group uid (through setpriv, after any InNetNS; needs root).
func RunAs(uid int) Option { return func(s *start) { s.runAs = uid } }

// InNetNS runs node in a new network namespace with only its loopback up (unshare --net,
// which needs root), as a container would.
func InNetNS() Option { return func(s *start) { s.netns = true } }

// InPidNS runs node as pid 1 of new pid and mount namespaces with their own /proc (unshare
// --pid --fork --mount-proc, which needs root), as a container's main process. Proc.PID is
// then unshare's pid and node's pid (in this namespace) is the first of Proc.Children.
func InPidNS() Option { return func(s *start) { s.pidns = true } }

// InCgroups starts node in the given cgroup directories (each a v1 controller's or the v2
// group's): the wrapper writes its own pid to each cgroup.procs before it execs, so every
// page node touches is charged there. Needs root; the caller removes the cgroups.
func InCgroups(dirs ...string) Option {
	return func(s *start) { s.cgroups = append(s.cgroups, dirs...) }
}

// InNetNSLoopbackDown runs node in a new network namespace whose loopback stays down
// (unshare --net alone): nothing can reach 127.0.0.1 there.
func InNetNSLoopbackDown() Option { return func(s *start) { s.netns, s.loDown = true, true } }

// UnderShell runs node as the child of a shell that waits for it (sh -c 'node ...; exit
// $?'): Proc.PID is then the shell's pid and node's pid is the first of Proc.Children.
func UnderShell() Option { return func(s *start) { s.shell = true } }

// Args passes arguments to the script.
func Args(a ...string) Option { return func(s *start) { s.args = append(s.args, a...) } }

// NodeFlags passes options to node itself (before the script).
func NodeFlags(f ...string) Option { return func(s *start) { s.nodeFlags = append(s.nodeFlags, f...) } }

// NoFile runs the script with RLIMIT_NOFILE lowered to n (soft and hard), through prlimit.
func NoFile(n int) Option { return func(s *start) { s.nofile = n } }

// Node returns the path of node (or Debian's nodejs); it fails the test when neither is
// installed: Node.js is a test dependency, installed by .ci/run.
func Node(t testing.TB) string {
	for _, name := range []string{"node", "nodejs"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("node not found: run .ci/run or apt-get install nodejs")
	return ""
}

// Root is the module root (the directory holding go.mod).
func Root(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// Start runs testdata/node/<script> and waits up to 20 s for its ready line. The process
// and every child pid it reported are killed (SIGKILL, by pid) and reaped when the test ends.
func Start(t testing.TB, script string, opts ...Option) *Proc {
	t.Helper()
	var st start
	for _, o := range opts {
		o(&st)
	}
	argv := append(append([]string{Node(t)}, st.nodeFlags...), filepath.Join(Root(t), "testdata", "node", script))
	argv = append(argv, st.args...)
	if st.nofile > 0 {
		prlimit, err := exec.LookPath("prlimit")
		if err != nil {
			t.Fatal("prlimit not found (util-linux): needed to lower RLIMIT_NOFILE")
		}
		argv = append([]string{prlimit, fmt.Sprintf("--nofile=%d:%d", st.nofile, st.nofile), "--"}, argv...)
	}
	if st.runAs > 0 {
		id := strconv.Itoa(st.runAs)
		argv = append([]string{"setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups", "--"}, argv...)
	}
	if st.netns || st.pidns {
		flags, script := []string{"unshare"}, `exec "$@"`
		if st.pidns {
			flags = append(flags, "--pid", "--fork", "--mount-proc")
		}
		if st.netns {
			flags = append(flags, "--net")
			if !st.loDown {
				script = `ip link set lo up && exec "$@"`
			}
		}
		argv = append(append(flags, "--", "/bin/sh", "-c", script, "sh"), argv...)
	}
	if len(st.cgroups) > 0 {
		var script strings.Builder
		for _, dir := range st.cgroups {
			fmt.Fprintf(&script, "echo $$ > '%s/cgroup.procs' && ", strings.ReplaceAll(dir, "'", `'\''`))
		}
		script.WriteString(`exec "$@"`)
		argv = append([]string{"/bin/sh", "-c", script.String(), "sh"}, argv...)
	}
	if st.shell {
		// The trailing command keeps sh from exec'ing node in place of itself.
		argv = append([]string{"/bin/sh", "-c", `"$@"; exit $?`, "sh"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = Root(t)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", script, err)
	}
	p := &Proc{PID: cmd.Process.Pid, cmd: cmd}
	t.Cleanup(func() { p.Kill(t) })

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"ready":true`) {
				lines <- sc.Text()
				break
			}
		}
		_, _ = bufio.NewReader(out).WriteTo(discard{})
	}()
	select {
	case line := <-lines:
		if err := json.Unmarshal([]byte(line), &p.Ready); err != nil {
			t.Fatalf("%s: ready line %q: %v", script, line, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: no ready line in 20 s; stderr: %s", script, stderr.String())
	}
	if v, ok := p.Ready["pid"].(float64); ok && st.shell {
		p.Children = append(p.Children, int(v))
	} else if st.pidns {
		child, err := onlyChild(p.PID)
		if err != nil {
			t.Fatalf("%s: node's pid outside its pid namespace: %v", script, err)
		}
		p.Children = append(p.Children, child)
	} else if ok && int(v) != p.PID {
		t.Fatalf("%s: ready pid %v is not the started pid %d", script, v, p.PID)
	}
	if v, ok := p.Ready["port"].(float64); ok {
		p.Port = int(v)
	}
	if list, ok := p.Ready["children"].([]any); ok {
		for _, c := range list {
			p.Children = append(p.Children, int(c.(float64)))
		}
	}
	return p
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

var reapMu sync.Mutex

// Kill stops the process and the children it reported, by pid, and checks they are gone.
func (p *Proc) Kill(t testing.TB) {
	reapMu.Lock()
	defer reapMu.Unlock()
	for _, c := range p.Children {
		_ = syscall.Kill(c, syscall.SIGKILL)
	}
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
	for _, c := range p.Children {
		WaitGone(t, c)
	}
}

// WaitGone waits up to 5 s for pid to disappear (or become a zombie of a parent that is
// not ours, which init reaps).
func WaitGone(t testing.TB, pid int) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if i := bytes.LastIndexByte(data, ')'); i > 0 && len(data) > i+2 && data[i+2] == 'Z' {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("pid %d still alive after cleanup", pid)
}

// Alive reports whether pid exists and is not a zombie.
func Alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(data, ')')
	return i > 0 && len(data) > i+2 && data[i+2] != 'Z'
}

// KillParentOnly SIGKILLs the process itself (not its children) and reaps it, to make
// orphans of its children.
func (p *Proc) KillParentOnly() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// onlyChild returns the one child of pid (unshare --fork's child), from
// /proc/<pid>/task/<pid>/children.
func onlyChild(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(data))
	if len(f) != 1 {
		return 0, fmt.Errorf("process %d has children %q, want one", pid, f)
	}
	return strconv.Atoi(f[0])
}
