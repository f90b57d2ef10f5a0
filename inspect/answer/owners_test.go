package answer

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/jsstack"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/probes"
)

func TestListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		"4:127.0.0.1:3000": "127.0.0.1:3000",
		"4:0.0.0.0:80":     ":80",
		"6::::3000":        ":3000",
		"6:::1:8080":       "[::1]:8080",
		"-1:/tmp/s.sock":   "/tmp/s.sock",
		"garbage":          "garbage",
		"4:nocolon":        "nocolon",
		"":                 "",
	} {
		if got := listenAddr(in); got != want {
			t.Errorf("listenAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestArrivedRequestsWithoutTCPInfoStayUnknown: on a fake /proc tree there is no
// sock_diag (another namespace than ours), so a request that arrived in full keeps a nil
// age: unknown, not 0.
func TestArrivedRequestsWithoutTCPInfoStayUnknown(t *testing.T) {
	snap := &model.Snapshot{FDs: &model.FDTable{List: []model.FD{
		{FD: 9, Type: "tcp", Socket: &model.Socket{Inode: 77, State: "CLOSE_WAIT"}, Owner: &model.SocketOwner{Role: "accepted", Request: &model.OwnerRequest{Method: "GET", Path: "/"}}},
	}}}
	col := &Into{FS: probes.NewFS(t.TempDir()), PID: 4242, Snap: snap, Warn: func(format string, args ...any) {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf(format, args...))
	}}
	col.ageArrivedRequests()
	if r := col.Snap.FDs.List[0].Owner.Request; r.AgeMS != nil || r.AgeAtLeast {
		t.Errorf("age %v (at least %v), want unknown", *r.AgeMS, r.AgeAtLeast)
	}
	if w := strings.Join(col.Snap.Warnings, "\n"); !strings.Contains(w, "the age of 1 HTTP request(s) that arrived in full is unknown") {
		t.Errorf("no warning says the age is unknown: %q", w)
	}
}

func TestSocketOwnerString(t *testing.T) {
	for _, tc := range []struct {
		o    model.SocketOwner
		want string
	}{
		{model.SocketOwner{Role: "accepted", Server: "http.Server on :3000", Request: &model.OwnerRequest{Method: "GET", Path: "/"}}, "accepted by http.Server on :3000, GET /"},
		{model.SocketOwner{Role: "server", Server: "net.Server on 127.0.0.1:9"}, "net.Server on 127.0.0.1:9"},
		{model.SocketOwner{Role: "client", Agent: "https.globalAgent", Upstream: "api:443", Idle: true}, "https.globalAgent to api:443, idle"},
		{model.SocketOwner{Role: "client", Upstream: "db:5432"}, "client of db:5432"},
		{model.SocketOwner{Role: "socket"}, ""},
		{model.SocketOwner{Role: "accepted", Server: "http.Server on :3000", Request: &model.OwnerRequest{Method: "POST", Path: "/upload", AgeMS: i64(42_500)}}, "accepted by http.Server on :3000, POST /upload (42 s)"},
		{model.SocketOwner{Role: "accepted", Server: "http.Server on :3000", Request: &model.OwnerRequest{Method: "GET", Path: "/hang", AgeMS: i64(9_100), AgeAtLeast: true}}, "accepted by http.Server on :3000, GET /hang (≥ 9 s)"},
	} {
		if got := tc.o.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.o, got, tc.want)
		}
	}
}

func TestBlockedOnCPUAndThreadState(t *testing.T) {
	for _, tc := range []struct {
		l    *model.EventLoop
		want bool
	}{
		{nil, false},
		{&model.EventLoop{Verdict: "turning", Samples: 10, Seen: map[string]int{"running": 10}}, false},
		{&model.EventLoop{Verdict: "blocked", Samples: 10, Seen: map[string]int{"running": 10}}, true},
		{&model.EventLoop{Verdict: "blocked", Samples: 10, Seen: map[string]int{"running": 6, "futex": 4}}, true},
		{&model.EventLoop{Verdict: "blocked", Samples: 10, Seen: map[string]int{"futex": 10}}, false},
		{&model.EventLoop{Verdict: "blocked", Samples: 10, Seen: map[string]int{"running": 9, "read": 1}}, false},
		{&model.EventLoop{Verdict: "blocked", Samples: 0}, false},
	} {
		if got := BlockedOnCPU(tc.l); got != tc.want {
			t.Errorf("blockedOnCPU(%+v) = %v", tc.l, got)
		}
	}
	for in, want := range map[string]string{"epoll": "idle", "running": "running", "futex": "syscall:futex", "syscall:7": "syscall:7",
		"sleeping:pipe_wait": "syscall:pipe_wait", "sleeping": "syscall:unknown"} {
		if got := jsstack.SyscallState(in); got != want {
			t.Errorf("syscallState(%q) = %q, want %q", in, got, want)
		}
	}
	f := model.Frame{Function: "renderReport", URL: "/app/src/report.js", Line: 42}
	if got := shortFrame(f, "/app"); got != "renderReport (src/report.js:42)" {
		t.Errorf("shortFrame = %q", got)
	}
	if got := shortFrame(f, "/elsewhere"); got != "renderReport (/app/src/report.js:42)" {
		t.Errorf("shortFrame outside cwd = %q", got)
	}
	internal := []model.Frame{{Function: "parse", URL: "node:internal/json", Line: 1}, f}
	if got := model.AppFrame(internal); got.Function != "renderReport" {
		t.Errorf("appFrame skips Node's frames: %+v", got)
	}
	if got := model.AppFrame(internal[:1]); got.Function != "parse" {
		t.Errorf("appFrame with only Node's frames: %+v", got)
	}
}

func i64(v int64) *int64 { return &v }
