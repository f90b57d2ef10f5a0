package closer

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nodeinspect/nodeinspect/probes"
)

// fakeProcs writes a fake /proc with one stat per pid (state and start ticks) and the
// given command lines.
func fakeProcs(t *testing.T, stats map[int][2]string, cmdlines map[int][]string) probes.FS {
	t.Helper()
	root := t.TempDir()
	for pid, st := range stats {
		dir := filepath.Join(root, strconv.Itoa(pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		line := strconv.Itoa(pid) + " (node) " + st[0] + " 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 7 0 " + st[1] + " 1000 100 18446744073709551615\n"
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
		if args, ok := cmdlines[pid]; ok {
			if err := os.WriteFile(filepath.Join(dir, "cmdline"), []byte(strings.Join(args, "\x00")+"\x00"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return probes.NewFS(root)
}

// stateFiles writes files into the state directory, each name with its content.
func stateFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPruneStateFakePIDs(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("NODEINSPECT_STATE_DIR", dir)
	fs := fakeProcs(t, map[int][2]string{
		100: {"S", "500"}, // alive, the process the files name
		102: {"S", "999"}, // pid reused: the files name ticks 500
		103: {"Z", "500"}, // exited, not reaped
		200: {"S", "7"},   // a closer still watching 101
		201: {"S", "7"},   // pid of 102's closer reused by another program
		300: {"S", "7"},   // a writer still writing
	}, map[int][]string{
		200: {"/proc/self/exe", CloserCommand, `{"pid":101,"start_ticks":500}`},
		201: {"/usr/bin/sleep", "60"},
	})
	stateFiles(t, dir, map[string]string{
		"100-500.json":         `{"pid":100,"start_ticks":500,"closer_pid":999}`,
		"100-500.lock":         "",
		"101-500.json":         `{"pid":101,"start_ticks":500,"closer_pid":200,"state":"waiting"}`,
		"101-500.lock":         "",
		"102-500.json":         `{"pid":102,"start_ticks":500,"closer_pid":201,"state":"gave up"}`,
		"102-500.lock":         "",
		"103-500.json":         `{"pid":103,"start_ticks":500,"closer_pid":998}`,
		"104-500.json":         `not json`,
		"104-500.json.tmp300":  "{",
		"104-500.json.tmp301":  "{",
		"105-500.lock":         "",
		"notes.txt":            "kept: not ours",
		"106-500.json.partial": "kept: not a name it knows",
	})
	// A run holds the lock of a target that is gone: it stays.
	held, err := os.OpenFile(filepath.Join(dir, "105-500.lock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := unix.Flock(int(held.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}

	removed, err := PruneState(fs)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	want := []string{"101-500.lock", "102-500.json", "102-500.lock", "103-500.json", "104-500.json", "104-500.json.tmp301"}
	if !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	ents, _ := os.ReadDir(dir)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	wantLeft := []string{"100-500.json", "100-500.lock", "101-500.json", "104-500.json.tmp300", "105-500.lock", "106-500.json.partial", "notes.txt"}
	if !slices.Equal(left, wantLeft) {
		t.Errorf("left %v, want %v", left, wantLeft)
	}
	// A second run (or one running at the same time) finds nothing more to do.
	again, err := PruneState(fs)
	if err != nil || len(again) != 0 {
		t.Errorf("second prune removed %v, %v", again, err)
	}
}

func TestPruneStateRealPIDs(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("NODEINSPECT_STATE_DIR", dir)
	fs := probes.NewFS("")
	// A process that ran and was reaped: its pid is gone.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	self, err := fs.ReadStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	me := strconv.Itoa(os.Getpid())
	stateFiles(t, dir, map[string]string{
		strconv.Itoa(dead) + "-1.json":                                 `{"closer_pid":` + strconv.Itoa(dead) + `}`,
		strconv.Itoa(dead) + "-1.lock":                                 "",
		me + "-" + strconv.FormatUint(self.StartTicks, 10) + ".json":   `{}`,
		me + "-" + strconv.FormatUint(self.StartTicks+1, 10) + ".lock": "", // this pid, another start: reused
	})
	removed, err := PruneState(fs)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	want := []string{strconv.Itoa(dead) + "-1.json", strconv.Itoa(dead) + "-1.lock", me + "-" + strconv.FormatUint(self.StartTicks+1, 10) + ".lock"}
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	if _, err := os.Stat(filepath.Join(dir, me+"-"+strconv.FormatUint(self.StartTicks, 10)+".json")); err != nil {
		t.Errorf("the state of a live process was removed: %v", err)
	}
}

func TestPruneStateNoDirectory(t *testing.T) {
	t.Setenv("NODEINSPECT_STATE_DIR", filepath.Join(t.TempDir(), "never-made"))
	if removed, err := PruneState(probes.NewFS("")); err != nil || removed != nil {
		t.Fatalf("PruneState = %v, %v", removed, err)
	}
}
