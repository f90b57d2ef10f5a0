package fleet

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/ps"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/internal/fakeproc"
	"github.com/nodeinspect/nodeinspect/probes"
)

// fakeNode is a Node.js process of a fake tree with sane defaults.
func fakeNode(pid int, args ...string) fakeproc.Proc {
	return fakeproc.Proc{
		PID: pid, PPID: 1, PGID: pid, SID: pid, Comm: "node", State: "S", Threads: 11,
		StartTicks: 360000 + uint64(pid), UID: 1000, Exe: "/usr/bin/node", Cmdline: append([]string{"node"}, args...),
		RSSKB: 61440, SoftNofile: 1024, HardNofile: 4096,
		FDs: []fakeproc.FD{{Num: 0, Target: "/dev/null"}, {Num: 1, Target: "pipe:[9001]"}, {Num: 2, Target: "pipe:[9001]"}},
	}
}

// fleetTree writes a host with one process per pathology, returns its root.
func fleetTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	tree, err := fakeproc.New(root)
	if err != nil {
		t.Fatal(err)
	}
	add := func(p fakeproc.Proc) {
		t.Helper()
		if err := tree.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	// 100: 12 CLOSE_WAIT, 2 ESTABLISHED, a listener.
	cw := fakeNode(100, "/srv/api/server.js")
	cw.FDs = append(cw.FDs, fakeproc.FD{Num: 3, Target: "socket:[5000]"})
	cw.Sockets = append(cw.Sockets, fakeproc.Socket{Proto: "tcp", State: "0A", Local: "0.0.0.0:3000", Remote: "0.0.0.0:0", Inode: 5000})
	for i := 0; i < 14; i++ {
		state := "08"
		if i >= 12 {
			state = "01"
		}
		ino := uint64(5001 + i)
		cw.FDs = append(cw.FDs, fakeproc.FD{Num: 10 + i, Target: fmt.Sprintf("socket:[%d]", ino)})
		cw.Sockets = append(cw.Sockets, fakeproc.Socket{Proto: "tcp", State: state, Local: "10.0.0.1:3000", Remote: fmt.Sprintf("10.0.0.2:%d", 40000+i), Inode: ino})
	}
	add(cw)
	// 200: 900 of 1024 fds (EMFILE_RISK warning at 88%).
	fd := fakeNode(200, "worker.js")
	for i := 0; i < 897; i++ {
		fd.FDs = append(fd.FDs, fakeproc.FD{Num: 3 + i, Target: fmt.Sprintf("/srv/data/f%d", i)})
	}
	add(fd)
	// 300: two zombie children, run by pm2 as "billing" (pm_id 4).
	z := fakeNode(300, "/usr/lib/node_modules/pm2/lib/ProcessContainerFork.js")
	z.Environ = []string{"PATH=/usr/bin", "name=billing", "pm_id=4", "NODE_VERSION=20.20.0"}
	z.Children = []int{301, 302}
	add(z)
	for _, c := range []int{301, 302} {
		add(fakeproc.Proc{PID: c, PPID: 300, PGID: 300, SID: 300, Comm: "sh", State: "Z", StartTicks: 370000})
	}
	// 400 and 401: two copies of one package (cluster workers), named from package.json.
	for _, pid := range []int{400, 401} {
		p := fakeNode(pid, "dist/main.js")
		p.Exe = "/home/app/.nvm/versions/node/v22.1.0/bin/node"
		add(p)
		dir := filepath.Join(root, strconv.Itoa(pid))
		if err := os.Symlink("/srv/shop", filepath.Join(dir, "cwd")); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "root", "srv", "shop", "dist"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "root", "srv", "shop", "package.json"), []byte(`{"name":"shop-frontend"}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// 500: a command line with bytes that are not UTF-8, and deleted files held.
	h := fakeNode(500, "/tmp/bad\xffname.js")
	h.FDs = append(h.FDs, fakeproc.FD{Num: 5, Target: "/var/log/app.log (deleted)"})
	add(h)
	// 600: a process that is not Node.js: not exported.
	add(fakeproc.Proc{PID: 600, PPID: 1, PGID: 600, SID: 600, Comm: "nginx", State: "S", Exe: "/usr/sbin/nginx", Cmdline: []string{"nginx"}, SoftNofile: 1024, HardNofile: 1024})
	return root
}

// scrapeOf serves one scrape of the scanner through the Prometheus handler.
func scrapeOf(t *testing.T, s *Scanner) string {
	t.Helper()
	h, err := Handler(s, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %d\n%s", resp.StatusCode, body)
	}
	return string(body)
}

func newScanner(root string) *Scanner {
	col := inspect.NewCollector(probes.NewFS(root))
	col.UserName = func(int) string { return "app" }
	col.Now = func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) }
	return &Scanner{Collector: col, Options: ps.Options{Thresholds: rules.DefaultThresholds()}}
}

// seriesLines returns the sample lines of the exposition whose name is name, sorted.
func seriesLines(text, name string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, name+"{") || strings.HasPrefix(l, name+" ") {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

func TestMetricsOfAFakeHost(t *testing.T) {
	text := scrapeOf(t, newScanner(fleetTree(t)))
	want := map[string][]string{
		"process_open_fds": {
			`process_open_fds{container="",service="/srv/api/server.js"} 18`,
			`process_open_fds{container="",service="/tmp/bad` + "\uFFFD" + `name.js"} 4`,
			`process_open_fds{container="",service="billing"} 3`,
			`process_open_fds{container="",service="shop-frontend"} 3`,
			`process_open_fds{container="",service="shop-frontend#2"} 3`,
			`process_open_fds{container="",service="worker.js"} 900`,
		},
		"nodeinspect_tcp_sockets": {
			`nodeinspect_tcp_sockets{container="",service="/srv/api/server.js",state="CLOSE_WAIT"} 12`,
			`nodeinspect_tcp_sockets{container="",service="/srv/api/server.js",state="ESTABLISHED"} 2`,
			`nodeinspect_tcp_sockets{container="",service="/srv/api/server.js",state="LISTEN"} 1`,
		},
		"nodeinspect_zombie_children": {
			`nodeinspect_zombie_children{container="",service="/srv/api/server.js"} 0`,
			`nodeinspect_zombie_children{container="",service="/tmp/bad` + "\uFFFD" + `name.js"} 0`,
			`nodeinspect_zombie_children{container="",service="billing"} 2`,
			`nodeinspect_zombie_children{container="",service="shop-frontend"} 0`,
			`nodeinspect_zombie_children{container="",service="shop-frontend#2"} 0`,
			`nodeinspect_zombie_children{container="",service="worker.js"} 0`,
		},
		"nodeinspect_fd_limit_ratio": {
			`nodeinspect_fd_limit_ratio{container="",service="/srv/api/server.js"} 0.017578125`,
			`nodeinspect_fd_limit_ratio{container="",service="/tmp/bad` + "\uFFFD" + `name.js"} 0.00390625`,
			`nodeinspect_fd_limit_ratio{container="",service="billing"} 0.0029296875`,
			`nodeinspect_fd_limit_ratio{container="",service="shop-frontend"} 0.0029296875`,
			`nodeinspect_fd_limit_ratio{container="",service="shop-frontend#2"} 0.0029296875`,
			`nodeinspect_fd_limit_ratio{container="",service="worker.js"} 0.87890625`,
		},
		"nodeinspect_finding": {
			`nodeinspect_finding{code="CLOSE_WAIT_LEAK",container="",service="/srv/api/server.js",severity="warning"} 1`,
			`nodeinspect_finding{code="DELETED_FILES_HELD",container="",service="/tmp/bad` + "\uFFFD" + `name.js",severity="warning"} 1`,
			`nodeinspect_finding{code="EMFILE_RISK",container="",service="worker.js",severity="warning"} 1`,
			`nodeinspect_finding{code="ZOMBIE_CHILDREN",container="",service="billing",severity="warning"} 1`,
		},
		"nodeinspect_process_info": {
			`nodeinspect_process_info{cmdline="node /srv/api/server.js",container="",node_version="",pid="100",service="/srv/api/server.js"} 1`,
			`nodeinspect_process_info{cmdline="node /tmp/bad` + "\uFFFD" + `name.js",container="",node_version="",pid="500",service="/tmp/bad` + "\uFFFD" + `name.js"} 1`,
			`nodeinspect_process_info{cmdline="node /usr/lib/node_modules/pm2/lib/ProcessContainerFork.js",container="",node_version="20.20.0",pid="300",service="billing"} 1`,
			`nodeinspect_process_info{cmdline="node dist/main.js",container="",node_version="22.1.0",pid="400",service="shop-frontend"} 1`,
			`nodeinspect_process_info{cmdline="node dist/main.js",container="",node_version="22.1.0",pid="401",service="shop-frontend#2"} 1`,
			`nodeinspect_process_info{cmdline="node worker.js",container="",node_version="",pid="200",service="worker.js"} 1`,
		},
		"nodeinspect_processes": {`nodeinspect_processes 6`},
	}
	for name, lines := range want {
		got := seriesLines(text, name)
		if name == "nodeinspect_tcp_sockets" {
			// The always-exported states are 0 for the others (checked below).
			var some []string
			for _, l := range got {
				if strings.Contains(l, "server.js") {
					some = append(some, l)
				}
			}
			got = some
		}
		sort.Strings(lines)
		if strings.Join(got, "\n") != strings.Join(lines, "\n") {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(lines, "\n"))
		}
	}
	// No pid label anywhere but the _info series; no loop series without a verdict; no
	// stalled count without a window; the non-Node process is not there.
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, `pid="`) && !strings.HasPrefix(l, "nodeinspect_process_info{") {
			t.Errorf("pid label outside _info: %s", l)
		}
		if strings.HasPrefix(l, "nodeinspect_event_loop_") || strings.HasPrefix(l, "nodeinspect_stalled_sockets{") || strings.Contains(l, "nginx") {
			t.Errorf("series that must be absent: %s", l)
		}
	}
	if got := seriesLines(text, "nodeinspect_tcp_sockets"); len(got) != 18 {
		t.Errorf("tcp_sockets: %d series, want ESTABLISHED, CLOSE_WAIT and LISTEN of each process:\n%s", len(got), strings.Join(got, "\n"))
	}
	if got := seriesLines(text, "nodeinspect_deleted_bytes"); len(got) != 6 {
		t.Errorf("deleted_bytes: %d series, want one per process:\n%s", len(got), strings.Join(got, "\n"))
	}
}

// TestVanishedProcessLeavesNoSeries: a process that exits between scrapes is gone from the
// next scrape, and its name is not reused by another process.
func TestVanishedProcessLeavesNoSeries(t *testing.T) {
	root := fleetTree(t)
	s := newScanner(root)
	first := scrapeOf(t, s)
	if !strings.Contains(first, `service="billing"`) || !strings.Contains(first, `service="shop-frontend#2"`) {
		t.Fatalf("first scrape lacks the processes:\n%s", first)
	}
	for _, pid := range []string{"300", "301", "302", "400"} {
		if err := os.RemoveAll(filepath.Join(root, pid)); err != nil {
			t.Fatal(err)
		}
	}
	second := scrapeOf(t, s)
	if strings.Contains(second, `service="billing"`) || strings.Contains(second, `pid="400"`) {
		t.Fatalf("series of exited processes remain:\n%s", second)
	}
	// The survivor of the two copies takes the plain name (the dedupe is by what runs now).
	if !strings.Contains(second, `nodeinspect_process_info{cmdline="node dist/main.js",container="",node_version="22.1.0",pid="401",service="shop-frontend"} 1`) {
		t.Fatalf("the remaining copy is not named shop-frontend:\n%s", strings.Join(seriesLines(second, "nodeinspect_process_info"), "\n"))
	}
	if n := len(s.names); n != 4 {
		t.Fatalf("name cache holds %d processes, want the 4 that remain", n)
	}
}

// TestUnreadableSectionsAreSeriesNotZeros: a process whose fd table cannot be read has no
// fd series (not 0), an unreadable series per missing section, and counts in
// probe_errors_total; the scrape itself succeeds.
func TestUnreadableSectionsAreSeriesNotZeros(t *testing.T) {
	root := fleetTree(t)
	if err := os.RemoveAll(filepath.Join(root, "200", "fd")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "200", "limits")); err != nil {
		t.Fatal(err)
	}
	text := scrapeOf(t, newScanner(root))
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, `service="worker.js"`) && (strings.HasPrefix(l, "process_open_fds") || strings.HasPrefix(l, "process_max_fds") || strings.HasPrefix(l, "nodeinspect_fd_limit_ratio") || strings.HasPrefix(l, "nodeinspect_tcp_sockets")) {
			t.Errorf("a series for what could not be read: %s", l)
		}
	}
	for _, want := range []string{
		`nodeinspect_process_unreadable{container="",section="limits",service="worker.js"} 1`,
		`nodeinspect_process_unreadable{container="",section="sockets",service="worker.js"} 1`,
		`nodeinspect_probe_errors_total{kind="limits"} 1`,
		`nodeinspect_probe_errors_total{kind="scan"} 0`,
		`process_resident_memory_bytes{container="",service="worker.js"} 6.291456e+07`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
}

// TestScansAreSharedAndBounded: callers within MaxAge share a scan; concurrent callers
// share the one running; a scan that times out is counted, not a crash.
func TestScansAreSharedAndBounded(t *testing.T) {
	s := newScanner(fleetTree(t))
	s.MaxAge = time.Hour
	a, err := s.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Scan(context.Background())
	if a != b {
		t.Fatal("a second scan within MaxAge was not shared")
	}
	s.MaxAge = 0
	results := make(chan *Scan, 8)
	for i := 0; i < 8; i++ {
		go func() { sc, _ := s.Scan(context.Background()); results <- sc }()
	}
	distinct := map[*Scan]bool{}
	for i := 0; i < 8; i++ {
		distinct[<-results] = true
	}
	// Eight callers at once: far fewer scans than callers (a caller arriving after one
	// finished starts the next; on an idle machine it is usually 1 or 2).
	if len(distinct) >= 8 {
		t.Fatalf("8 concurrent callers ran %d scans", len(distinct))
	}
	s.Timeout = time.Nanosecond
	sc, err := s.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sc.Err == nil || sc.ErrorsTotal["timeout"] != 1 {
		t.Fatalf("timed-out scan: err %v, errors %v", sc.Err, sc.ErrorsTotal)
	}
	if got := Samples(sc); len(got) == 0 || got[len(got)-1].Family != ProbeErrors {
		t.Fatal("a failed scan must still give the exporter's own series")
	}
}

func TestScriptOf(t *testing.T) {
	cases := map[string]string{
		"node server.js": "server.js",
		"node --max-old-space-size=512 dist/main.js a": "dist/main.js",
		"node -r dotenv/config app.js":                 "app.js",
		"node --require ./tracing.js --inspect app.js": "app.js",
		"node -e console.log(1)":                       "",
		"node":                                         "",
		"node -- weird.js":                             "weird.js",
		"node --import tsx src/index.ts":               "src/index.ts",
	}
	for in, want := range cases {
		if got := ScriptOf(strings.Fields(in)); got != want {
			t.Errorf("ScriptOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNodeVersionOf(t *testing.T) {
	cases := []struct{ env, exe, want string }{
		{"20.20.0", "/usr/local/bin/node", "20.20.0"},
		{"v18.1.0", "", "18.1.0"},
		{"", "/root/.nvm/versions/node/v22.1.0/bin/node", "22.1.0"},
		{"", "/usr/local/n/versions/node/21.7.3/bin/node", "21.7.3"},
		{"", "/usr/bin/node", ""},
		{"", "/opt/node-1.2/bin/node", ""},
	}
	for _, c := range cases {
		if got := NodeVersionOf(c.env, c.exe); got != c.want {
			t.Errorf("NodeVersionOf(%q, %q) = %q, want %q", c.env, c.exe, got, c.want)
		}
	}
}

func TestDedupeIsDeterministic(t *testing.T) {
	list := []named{
		{id: Identity{Service: "api", PM2ID: -1}, startTicks: 300, pid: 30},
		{id: Identity{Service: "api", PM2ID: -1}, startTicks: 100, pid: 10},
		{id: Identity{Service: "api", PM2ID: -1}, container: "abc", startTicks: 50, pid: 5},
		{id: Identity{Service: "api", PM2ID: -1}, startTicks: 100, pid: 9},
		{id: Identity{Service: "web", PM2ID: 2}, startTicks: 1, pid: 1},
		{id: Identity{Service: "web", PM2ID: 1}, startTicks: 2, pid: 2},
	}
	got := dedupe(list)
	want := []string{"api#3", "api#2", "api", "api", "web#2", "web"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("dedupe = %v, want %v", got, want)
	}
}

func FuzzScriptOf(f *testing.F) {
	f.Add("node\x00-r\x00x\x00app.js")
	f.Add("node\x00--\x00")
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		got := ScriptOf(args)
		if got != "" && !contains(args[1:], got) {
			t.Fatalf("ScriptOf(%q) = %q, not one of the arguments", args, got)
		}
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestNoTCPSeriesWhenASocketTableIsUnreadable: a process whose socket table could not be
// read has no nodeinspect_tcp_sockets series (its CLOSE_WAIT count is unknown), not zeros.
func TestNoTCPSeriesWhenASocketTableIsUnreadable(t *testing.T) {
	root, pid, err := fakeproc.Copy(t.TempDir(), "close-wait")
	if err != nil {
		t.Fatal(err)
	}
	if got := seriesLines(scrapeOf(t, newScanner(root)), "nodeinspect_tcp_sockets"); !slices.ContainsFunc(got, func(l string) bool { return strings.Contains(l, `state="CLOSE_WAIT"} 120`) }) {
		t.Fatalf("readable tables: %q", got)
	}
	if err := fakeproc.Unreadable(filepath.Join(root, strconv.Itoa(pid), "net", "tcp6")); err != nil {
		t.Fatal(err)
	}
	if got := seriesLines(scrapeOf(t, newScanner(root)), "nodeinspect_tcp_sockets"); len(got) != 0 {
		t.Fatalf("unreadable table, want no series: %q", got)
	}
}
