package nodereport

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseEveryVersion(t *testing.T) {
	for _, c := range []struct {
		file      string
		version   int
		rssIsPeak bool
		endpoint  string
		soft      uint64
		warn      string
	}{
		{"v1.json", 1, true, "127.0.0.1:41085", 1024, "no current RSS"},
		{"v2.json", 2, true, "127.0.0.1:41085", 20000, "no current RSS"},
		{"v3.json", 3, false, "127.0.0.1:41085", 20000, ""},
		{"v4-crash.json", 4, false, "127.0.0.1:41085", 20000, ""},
		{"v5.json", 5, false, "127.0.0.1:41085", 20000, ""},
		{"unknown-v9.json", 9, false, "127.0.0.1:41085", 20000, "newer than this nodeinspect knows"},
	} {
		t.Run(c.file, func(t *testing.T) {
			r, err := Parse(fixture(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if r.Version != c.version || r.PID != 26150 || !strings.HasPrefix(r.NodeVersion, "v") {
				t.Errorf("header: version %d pid %d node %q", r.Version, r.PID, r.NodeVersion)
			}
			if r.Error == nil || r.Error.Message != "Error: payment service returned garbage" || r.Error.Code != "E_GARBAGE" || len(r.Error.Stack) == 0 {
				t.Errorf("error %+v", r.Error)
			}
			if r.Heap.UsedBytes == nil || r.Heap.TotalBytes == nil || r.Heap.LimitBytes == nil || *r.Heap.LimitBytes != 4345298944 {
				t.Errorf("heap %+v", r.Heap)
			}
			if r.RSSBytes == nil || *r.RSSBytes != 46112768 || (r.PeakRSSBytes == nil) {
				t.Errorf("rss %v peak %v", r.RSSBytes, r.PeakRSSBytes)
			}
			if !r.OpenFilesKnown || r.OpenFilesSoft == nil || *r.OpenFilesSoft != c.soft {
				t.Errorf("open files %v %v", r.OpenFilesKnown, r.OpenFilesSoft)
			}
			var tcp, alive int
			for _, h := range r.Handles {
				if h.Type == "tcp" {
					tcp++
					if h.FD == nil || h.Local == "" {
						t.Errorf("tcp handle without fd or endpoint: %+v", h)
					}
				}
				if h.Active && h.Referenced && h.Type != "loop" {
					alive++
				}
			}
			if tcp != 3 || alive != 3 || r.Handles[8].Local != c.endpoint {
				t.Errorf("%d tcp handles, %d alive, first endpoint %q", tcp, alive, r.Handles[8].Local)
			}
			joined := strings.Join(r.Warnings, "; ")
			if c.warn != "" && !strings.Contains(joined, c.warn) {
				t.Errorf("warnings %q lack %q", joined, c.warn)
			}
			if c.warn == "" && len(r.Warnings) != 0 {
				t.Errorf("unexpected warnings %q", joined)
			}
		})
	}
}

func TestParseOutOfMemory(t *testing.T) {
	r, err := Parse(fixture(t, "v4-oom.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Error == nil || r.Error.Code != "OOMError" || !strings.Contains(r.Error.Message, "heap out of memory") {
		t.Fatalf("error %+v", r.Error)
	}
}

func TestParseRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		want error
		says string
	}{
		{"truncated", string(fixture(t, "truncated.json")), ErrMalformed, "cut short"},
		{"not JSON", "EMFILE: too many open files\n", ErrMalformed, "not JSON"},
		{"empty", "", ErrMalformed, "cut short"},
		{"array", "[1,2,3]", ErrNotReport, ""},
		{"other object", string(fixture(t, "not-a-report.json")), ErrNotReport, "header"},
		{"header of something else", `{"header": {"name": "x"}}`, ErrNotReport, "reportVersion"},
		{"header not an object", `{"header": 5}`, ErrNotReport, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.in))
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("err %v, want %v saying %q", err, c.want, c.says)
			}
		})
	}
}

func TestParseOddValues(t *testing.T) {
	in := `{"header": {"reportVersion": "4", "processId": 7, "nodejsVersion": "v20.0.0"},
	  "javascriptStack": {"message": "No stack.", "stack": ["Unavailable."]},
	  "javascriptHeap": {"usedMemory": "12", "totalMemory": -5, "memoryLimit": 1e3},
	  "resourceUsage": {"rss": "lots"},
	  "libuv": [{"type": "tcp", "is_active": true, "fd": -1, "localEndpoint": {"host": "::1", "port": 80}},
	            {"type": "timer", "is_active": true, "is_referenced": false, "firesInMsFromNow": 12}],
	  "userLimits": {"open_files": {"soft": "unlimited", "hard": "unlimited"}}}`
	r, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 4 || r.Error != nil || *r.Heap.UsedBytes != 12 || r.Heap.TotalBytes != nil || *r.Heap.LimitBytes != 1000 || r.RSSBytes != nil {
		t.Errorf("%+v heap %+v", r, r.Heap)
	}
	if !r.OpenFilesKnown || r.OpenFilesSoft != nil || r.OpenFilesHard != nil {
		t.Errorf("unlimited open files read as %v %v", r.OpenFilesSoft, r.OpenFilesHard)
	}
	if h := r.Handles[0]; h.FD != nil || !h.Referenced || h.Local != "[::1]:80" {
		t.Errorf("handle %+v", h)
	}
	if h := r.Handles[1]; h.Referenced || h.Detail != "fires in 12 ms" {
		t.Errorf("timer %+v", h)
	}
	if w := strings.Join(r.Warnings, "; "); !strings.Contains(w, "totalMemory") || !strings.Contains(w, "rss") {
		t.Errorf("warnings %q", w)
	}
}

func TestLooks(t *testing.T) {
	if !Looks(fixture(t, "v4-crash.json")) || Looks([]byte(`{"schema":"nodeinspect/v1"}`)) || Looks(nil) {
		t.Fatal("Looks")
	}
}

// A report written by a real crash of a real Node.js process.
func TestParseARealCrashReport(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: run .ci/run or apt-get install nodejs")
	}
	dir := t.TempDir()
	script := filepath.Join("..", "..", "testdata", "node", "crash.js")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--report-uncaught-exception", "--report-directory="+dir, "--report-filename=crash.json", script)
	if err := cmd.Run(); err == nil {
		t.Fatal("the crash script exited 0")
	}
	data, err := os.ReadFile(filepath.Join(dir, "crash.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Version < 1 || r.Error == nil || !strings.Contains(r.Error.Message, "payment service returned garbage") || r.Error.Code != "E_GARBAGE" {
		t.Fatalf("version %d error %+v", r.Version, r.Error)
	}
	if r.Heap.UsedBytes == nil || r.RSSBytes == nil || !r.OpenFilesKnown || r.PID != cmd.Process.Pid {
		t.Fatalf("heap %+v rss %v limits %v pid %d/%d", r.Heap, r.RSSBytes, r.OpenFilesKnown, r.PID, cmd.Process.Pid)
	}
}

// FuzzParse: no input makes Parse panic, and what it accepts has a version it can say.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"v1.json", "v4-crash.json", "v4-oom.json", "unknown-v9.json", "truncated.json"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"header":{"reportVersion":1e400},"libuv":[{"fd":1e30,"localEndpoint":{"port":"x"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err == nil && r.Version < 0 {
			t.Fatalf("negative version %d", r.Version)
		}
	})
}
