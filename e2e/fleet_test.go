package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/internal/realnode"
)

// needTool returns a tool's path; without it the test is skipped on a developer's machine
// and fails in CI (CI set: .ci/run installs prometheus and tmux).
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found: CI must have it (.ci/run installs Debian's %s)", name, pkg)
		}
		t.Skipf("%s not found (apt-get install %s); CI fails here instead of skipping", name, pkg)
	}
	return p
}

// loopbackPort asks the kernel for a free port on 127.0.0.1.
func loopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// daemon is a long-running process a test started (serve, prometheus), killed by pid at
// the end of the test.
type daemon struct {
	cmd    *exec.Cmd
	stderr *strings.Builder
}

func startDaemon(t *testing.T, name string, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	// Read only after the process exited (exec copies into it from its own goroutine).
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	d := &daemon{cmd: cmd, stderr: &stderr}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return d
}

// waitHTTP polls url until it answers 200, up to limit.
func waitHTTP(t *testing.T, url string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within %s", url, limit)
}

// startServe runs `nodeinspect serve` on a free loopback port and waits for /healthz.
func startServe(t *testing.T, args ...string) (base string, d *daemon) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", loopbackPort(t))
	d = startDaemon(t, binary, append([]string{"serve", "--listen", addr}, args...)...)
	base = "http://" + addr
	waitHTTP(t, base+"/healthz", 20*time.Second)
	return base, d
}

// scrape fetches /metrics.
func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %v\n%s", resp.StatusCode, err, body)
	}
	return string(body)
}

// series is one sample line of the exposition format.
type series struct {
	name   string
	labels map[string]string
	value  float64
}

// parseExposition reads the sample lines of a text exposition (label values here never
// hold `",` or `}` sequences the simple split would trip on, except cmdline, which is
// parsed with its escapes).
func parseExposition(t *testing.T, text string) []series {
	t.Helper()
	var out []series
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s := series{labels: map[string]string{}}
		rest := line
		if i := strings.IndexByte(line, '{'); i >= 0 {
			s.name = line[:i]
			rest = line[i+1:]
			for !strings.HasPrefix(rest, "}") {
				eq := strings.Index(rest, `="`)
				if eq < 0 {
					t.Fatalf("bad series line %q", line)
				}
				key := rest[:eq]
				rest = rest[eq+2:]
				var val strings.Builder
				for i := 0; ; i++ {
					if i >= len(rest) {
						t.Fatalf("unterminated label in %q", line)
					}
					c := rest[i]
					if c == '\\' && i+1 < len(rest) {
						i++
						switch rest[i] {
						case 'n':
							val.WriteByte('\n')
						default:
							val.WriteByte(rest[i])
						}
						continue
					}
					if c == '"' {
						rest = rest[i+1:]
						break
					}
					val.WriteByte(c)
				}
				s.labels[key] = val.String()
				rest = strings.TrimPrefix(rest, ",")
			}
			rest = strings.TrimSpace(rest[1:])
		} else {
			sp := strings.IndexByte(line, ' ')
			s.name, rest = line[:sp], line[sp+1:]
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			t.Fatalf("bad value in %q: %v", line, err)
		}
		s.value = v
		out = append(out, s)
	}
	return out
}

// servicesOfPid maps pid -> (service, container) from nodeinspect_process_info.
func servicesOfPid(all []series) map[int][2]string {
	out := map[int][2]string{}
	for _, s := range all {
		if s.name == "nodeinspect_process_info" {
			pid, _ := strconv.Atoi(s.labels["pid"])
			out[pid] = [2]string{s.labels["service"], s.labels["container"]}
		}
	}
	return out
}

// promQuery asks Prometheus's HTTP API for an instant vector.
func promQuery(t *testing.T, prom, query string) []promSample {
	t.Helper()
	resp, err := http.Get(prom + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("query %q: %v", query, err)
	}
	if doc.Status != "success" {
		t.Fatalf("query %q: %s", query, doc.Error)
	}
	var out []promSample
	for _, r := range doc.Data.Result {
		v, _ := strconv.ParseFloat(fmt.Sprint(r.Value[1]), 64)
		out = append(out, promSample{labels: r.Metric, value: v})
	}
	return out
}

type promSample struct {
	labels map[string]string
	value  float64
}

// waitQuery polls a query until check accepts its result (Prometheus scrapes every second;
// a busy machine delays scrapes, so the limit is generous and the wait ends at once when
// the condition holds).
func waitQuery(t *testing.T, prom, query string, limit time.Duration, what string, check func([]promSample) bool) []promSample {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last []promSample
	for time.Now().Before(deadline) {
		last = promQuery(t, prom, query)
		if check(last) {
			return last
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: %s never held within %s; last result: %v", what, query, limit, last)
	return nil
}

// startPrometheus runs Debian's prometheus scraping target every second, with its data in
// a temp dir, and waits until it is ready.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin := needTool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: nodeinspect
    static_configs:
      - targets: [%q]
`, target)
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", loopbackPort(t))
	startDaemon(t, bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	base := "http://" + addr
	waitHTTP(t, base+"/-/ready", 60*time.Second)
	return base
}

// TestPrometheusScrapesLeakyNodeProcesses runs a real Prometheus against `serve` while real
// Node.js processes leak: CLOSE_WAIT sockets, fds toward a lowered limit, zombies. It asks
// Prometheus's HTTP API for the series and their values, then kills one process and sees
// its series go stale.
func TestPrometheusScrapesLeakyNodeProcesses(t *testing.T) {
	t.Parallel()
	closeWait := realnode.Start(t, "close_wait.js", realnode.Args("25"))
	fdLeak := realnode.Start(t, "fleet_fd_leak.js", realnode.NoFile(400), realnode.Args("100", "350"))
	zombies := realnode.Start(t, "zombies.js", realnode.Args("3"))

	base, _ := startServe(t, "--sample", "200ms", "--scrape-timeout", "900ms")
	target := strings.TrimPrefix(base, "http://")
	prom := startPrometheus(t, target)

	const limit = 60 * time.Second
	info := func(pid int) string {
		return fmt.Sprintf(`nodeinspect_process_info{pid="%d"}`, pid)
	}
	// by(pid, metric) selects metric of the process pid through the _info series.
	by := func(pid int, metric string) string {
		return fmt.Sprintf(`(%s) * on (instance, service, container) group_left(pid) %s`, metric, info(pid))
	}
	one := func(want float64) func([]promSample) bool {
		return func(r []promSample) bool { return len(r) == 1 && r[0].value == want }
	}
	waitQuery(t, prom, `up{job="nodeinspect"}`, limit, "exporter up", one(1))

	// CLOSE_WAIT: exactly the 25 the script made, and the finding.
	r := waitQuery(t, prom, by(closeWait.PID, `nodeinspect_tcp_sockets{state="CLOSE_WAIT"}`), limit, "close_wait", one(25))
	svc := r[0].labels["service"]
	if !strings.HasSuffix(svc, "testdata/node/close_wait.js") && !strings.Contains(svc, "close_wait.js#") {
		t.Errorf("service of close_wait.js = %q, want its script path", svc)
	}
	waitQuery(t, prom, by(closeWait.PID, `nodeinspect_finding{code="CLOSE_WAIT_LEAK",severity="warning"}`), limit, "CLOSE_WAIT_LEAK finding", one(1))

	// Zombies: the three children nobody reaps, and the finding.
	waitQuery(t, prom, by(zombies.PID, `nodeinspect_zombie_children`), limit, "zombies", one(3))
	waitQuery(t, prom, by(zombies.PID, `nodeinspect_finding{code="ZOMBIE_CHILDREN"}`), limit, "ZOMBIE_CHILDREN finding", one(1))
	// Its loop is blocked (Atomics.wait): where ps decides loop verdicts the series is 1;
	// where it cannot, the series is absent (unknown), never 0.
	if r := promQuery(t, prom, by(zombies.PID, `nodeinspect_event_loop_blocked`)); len(r) > 0 && r[0].value != 1 {
		t.Errorf("event_loop_blocked of the blocked zombies.js = %v, want 1 or absent", r[0].value)
	}

	// The fd leak: the lowered limit, a rising count, and predict_linear (the alert's
	// expression) reaching the limit within the hour.
	waitQuery(t, prom, by(fdLeak.PID, `process_max_fds`), limit, "max fds", one(400))
	waitQuery(t, prom, by(fdLeak.PID, `deriv(process_open_fds[10s])`), limit, "fd growth", func(r []promSample) bool {
		// 10 fds/s opened; deriv over 10 s of 1 s scrapes is near that. Anything above 3/s
		// proves growth was seen without depending on the scrape timing of a busy machine.
		return len(r) == 1 && r[0].value > 3
	})
	waitQuery(t, prom, by(fdLeak.PID, `predict_linear(process_open_fds[10s], 3600) >= process_max_fds`), limit, "EMFILE predicted", func(r []promSample) bool { return len(r) == 1 })
	ratio := waitQuery(t, prom, by(fdLeak.PID, `nodeinspect_fd_limit_ratio`), limit, "fd ratio near the limit", func(r []promSample) bool {
		return len(r) == 1 && r[0].value >= 0.85
	})
	waitQuery(t, prom, by(fdLeak.PID, `nodeinspect_finding{code="EMFILE_RISK"}`), limit, "EMFILE_RISK finding", one(1))
	t.Logf("fd_limit_ratio of the leak: %v", ratio[0].value)

	// The exporter's own health.
	waitQuery(t, prom, `nodeinspect_processes{job="nodeinspect"}`, limit, "processes seen", func(r []promSample) bool { return len(r) == 1 && r[0].value >= 3 })
	waitQuery(t, prom, `nodeinspect_scrape_duration_seconds{job="nodeinspect"}`, limit, "scan duration", func(r []promSample) bool {
		return len(r) == 1 && r[0].value > 0 && r[0].value < 1
	})

	// A killed process: Prometheus marks its series stale on the next scrape that lacks
	// them, so an instant query stops returning them within a couple of scrapes.
	if !realnode.Alive(fdLeak.PID) {
		t.Fatalf("fleet_fd_leak.js (pid %d) died near its fd limit", fdLeak.PID)
	}
	for _, q := range []string{
		by(fdLeak.PID, `nodeinspect_fd_limit_ratio`),
		by(zombies.PID, `nodeinspect_zombie_children`),
		by(closeWait.PID, `nodeinspect_tcp_sockets{state="CLOSE_WAIT"}`),
	} {
		for _, s := range promQuery(t, prom, q) {
			t.Logf("%s => %v %v", q, s.labels, s.value)
		}
	}

	closeWait.Kill(t)
	waitQuery(t, prom, info(closeWait.PID), limit, "killed process's info gone", func(r []promSample) bool { return len(r) == 0 })
	waitQuery(t, prom, fmt.Sprintf(`nodeinspect_tcp_sockets{service=%q}`, svc), limit, "killed process's sockets gone", func(r []promSample) bool { return len(r) == 0 })

	// Every panel of the shipped dashboard is valid PromQL against this Prometheus.
	var dash struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	data, err := os.ReadFile("../deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			q := strings.NewReplacer(`"$instance"`, `".*"`, `"$service"`, `".*"`).Replace(tg.Expr)
			promQuery(t, prom, q)
		}
	}
}

// TestPromtoolChecksARealScrape runs `promtool check metrics` on /metrics while leaky
// processes run: the exposition passes Prometheus's own linter (names, units, _total,
// help texts).
func TestPromtoolChecksARealScrape(t *testing.T) {
	t.Parallel()
	promtool := needTool(t, "promtool", "prometheus")
	realnode.Start(t, "close_wait.js", realnode.Args("12"))
	realnode.Start(t, "zombies.js", realnode.Args("2"))
	base, _ := startServe(t, "--sample", "200ms")
	body := scrape(t, base)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	if !strings.Contains(body, `nodeinspect_finding{code="CLOSE_WAIT_LEAK"`) {
		t.Fatalf("the scrape has no CLOSE_WAIT_LEAK finding:\n%s", body)
	}
}

// TestServePortInUse: a port already in use is one line on stderr and exit 2.
func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--listen", ln.Addr().String())
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], "already in use") || stdout.Len() != 0 {
		t.Fatalf("serve on a used port: exit %d, stdout %q, stderr %q; want exit 2 and one line", code, stdout.String(), stderr.String())
	}
}

// tmuxSession is top (or a shell around it) running in a real terminal: a tmux server of
// its own (its own socket), killed with everything in it when the test ends.
type tmuxSession struct {
	t      *testing.T
	tmux   string
	socket string
}

func startTmux(t *testing.T, width, height int, command string) *tmuxSession {
	t.Helper()
	s := &tmuxSession{t: t, tmux: needTool(t, "tmux", "tmux"), socket: fmt.Sprintf("nodeinspect-top-%d-%d", os.Getpid(), time.Now().UnixNano())}
	s.run("new-session", "-d", "-s", "top", "-x", strconv.Itoa(width), "-y", strconv.Itoa(height), command)
	panePid, _ := strconv.Atoi(strings.TrimSpace(s.run("display-message", "-p", "-t", "top", "#{pane_pid}")))
	t.Cleanup(func() {
		// The pane's process tree by pid (the shell and top under it), then our server.
		if panePid > 0 {
			if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", panePid, panePid)); err == nil {
				for _, f := range strings.Fields(string(data)) {
					if pid, err := strconv.Atoi(f); err == nil {
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
			_ = syscall.Kill(panePid, syscall.SIGKILL)
		}
		_ = exec.Command(s.tmux, "-L", s.socket, "kill-server").Run()
	})
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command(s.tmux, append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// capture returns the pane's text (with escapes when escapes is set).
func (s *tmuxSession) capture(escapes bool) string {
	s.t.Helper()
	args := []string{"capture-pane", "-p", "-t", "top"}
	if escapes {
		args = append(args, "-e")
	}
	return s.run(args...)
}

// waitScreen polls the pane until check accepts it (top refreshes every second; a busy
// machine delays a frame, hence the generous limit, left as soon as the screen is right).
func (s *tmuxSession) waitScreen(what string, escapes bool, check func(string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	screen := ""
	for time.Now().Before(deadline) {
		screen = s.capture(escapes)
		if check(screen) {
			return screen
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("%s: the screen never showed it; last screen:\n%s", what, screen)
	return ""
}

// widest is the widest line of a captured screen, in runes.
func widest(screen string) int {
	w := 0
	for _, l := range strings.Split(screen, "\n") {
		w = max(w, len([]rune(l)))
	}
	return w
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestTopInARealTerminal runs top in tmux: rows for real processes, worst first; a resize
// redraws to the new width; keys sort and quit; the terminal's modes are back after q and
// after SIGTERM.
func TestTopInARealTerminal(t *testing.T) {
	t.Parallel()
	leak := realnode.Start(t, "close_wait.js", realnode.Args("12"))
	idle := realnode.Start(t, "fleet_idle.js")
	dir := t.TempDir()
	stty := filepath.Join(dir, "stty")
	// The shell around top records the terminal's modes after top exits.
	cmd := fmt.Sprintf("env -u NO_COLOR %s top --interval 1h; stty -a > %s; sleep 600", shellQuote(binary), shellQuote(stty))
	// Tall: a busy host (other tests, other users) may list many processes above ours.
	s := startTmux(t, 160, 300, "sh -c "+shellQuote(cmd))
	leakRow := regexp.MustCompile(fmt.Sprintf(`(?m)^  +%d .*close_wait\.js.* 12 .*CLOSE_WAIT_LEAK`, leak.PID))
	idleRow := regexp.MustCompile(fmt.Sprintf(`(?m)^  +%d .*fleet_idle\.js`, idle.PID))
	idlePid := regexp.MustCompile(fmt.Sprintf(`(?m)^  +%d `, idle.PID))
	screen := s.waitScreen("rows of both processes", false, func(sc string) bool {
		return leakRow.MatchString(sc) && idleRow.MatchString(sc)
	})
	if !strings.Contains(screen, "CLOSE_WAIT") || !strings.Contains(screen, "FDS/LIMIT") || !strings.Contains(screen, "LOOP") {
		t.Fatalf("wide screen lacks columns:\n%s", screen)
	}
	if w := widest(screen); w > 160 {
		t.Fatalf("a line is %d columns on a 160-column terminal:\n%s", w, screen)
	}
	// Worst first: the flagged process above the idle one.
	if leakRow.FindStringIndex(screen)[0] > idleRow.FindStringIndex(screen)[0] {
		t.Fatalf("the flagged process is not above the idle one:\n%s", screen)
	}
	if colored := s.capture(true); !strings.Contains(colored, "\x1b[") {
		t.Fatalf("no colour on a terminal without NO_COLOR:\n%q", colored)
	}

	// A resize: redrawn to the new width at once (SIGWINCH: with --interval 1h nothing else
	// redraws), the narrow layout.
	s.run("resize-window", "-t", "top", "-x", "64", "-y", "300")
	screen = s.waitScreen("redraw at 64 columns", false, func(sc string) bool {
		// The row by its pid alone: the path is cut from the left to what fits.
		return strings.Contains(sc, " CW ") && widest(sc) <= 64 && idlePid.MatchString(sc)
	})
	if strings.Contains(screen, "CLOSE_WAIT ") {
		t.Fatalf("the narrow screen kept the wide titles:\n%s", screen)
	}

	// Keys: p sorts by pid, q quits and leaves the terminal as it was.
	s.run("send-keys", "-t", "top", "p")
	s.waitScreen("sort by pid", false, func(sc string) bool { return strings.Contains(sc, "sort: pid") })
	// j moves the selection down the rows until it is on our idle process (the rows above
	// it are other tests' processes, which may have exited since the one scan of --interval
	// 1h); enter opens its report, q comes back to the list.
	selectedRow := regexp.MustCompile(`(?m)^> +(\d+) `)
	selectedPID := func(sc string) string {
		if m := selectedRow.FindStringSubmatch(sc); m != nil {
			return m[1]
		}
		return ""
	}
	for prev := ""; prev != strconv.Itoa(idle.PID); {
		s.run("send-keys", "-t", "top", "j")
		screen = s.waitScreen("the selection moving down", false, func(sc string) bool {
			return selectedPID(sc) != "" && selectedPID(sc) != prev
		})
		prev = selectedPID(screen)
	}
	s.run("send-keys", "-t", "top", "Enter")
	s.waitScreen("the report of the selected process", false, func(sc string) bool {
		return strings.Contains(sc, fmt.Sprintf("report of pid %d", idle.PID)) && strings.Contains(sc, "fds")
	})
	s.run("send-keys", "-t", "top", "q")
	s.waitScreen("back to the list", false, func(sc string) bool { return strings.Contains(sc, "sort: pid") })
	s.run("send-keys", "-t", "top", "q")
	waitFile(t, stty)
	modes, _ := os.ReadFile(stty)
	for _, want := range []string{" icanon", " echo ", " icrnl", " opost"} {
		if !strings.Contains(" "+strings.ReplaceAll(string(modes), "\n", " ")+" ", want) {
			t.Fatalf("after q the terminal lacks %q (raw mode left on):\n%s", want, modes)
		}
	}
	if sc := s.capture(false); strings.Contains(sc, "nodeinspect top") {
		t.Fatalf("after q the alternate screen is still shown:\n%s", sc)
	}
}

// TestTopRestoresTheTerminalOnSIGTERM: a SIGTERM (a closed ssh session, a kill) also leaves
// the terminal's modes as they were.
func TestTopRestoresTheTerminalOnSIGTERM(t *testing.T) {
	t.Parallel()
	realnode.Start(t, "fleet_idle.js")
	dir := t.TempDir()
	stty, pidFile := filepath.Join(dir, "stty"), filepath.Join(dir, "pid")
	// top runs in the foreground (a background job's stdin is not the terminal): an inner
	// shell writes its pid and execs top in its place.
	inner := fmt.Sprintf("echo $$ > %s; exec %s top --interval 1s", shellQuote(pidFile), shellQuote(binary))
	cmd := fmt.Sprintf("sh -c %s; stty -a > %s; sleep 600", shellQuote(inner), shellQuote(stty))
	s := startTmux(t, 100, 30, "sh -c "+shellQuote(cmd))
	s.waitScreen("top running", false, func(sc string) bool { return strings.Contains(sc, "fleet_idle.js") })
	waitFile(t, pidFile)
	data, _ := os.ReadFile(pidFile)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	waitFile(t, stty)
	modes, _ := os.ReadFile(stty)
	if !strings.Contains(string(modes), " icanon") || strings.Contains(string(modes), "-icanon") {
		t.Fatalf("after SIGTERM the terminal is still raw:\n%s", modes)
	}
}

// TestTopNoColor: with NO_COLOR set, not one colour or attribute escape.
func TestTopNoColor(t *testing.T) {
	t.Parallel()
	leak := realnode.Start(t, "close_wait.js", realnode.Args("12"))
	s := startTmux(t, 140, 300, "env NO_COLOR=1 "+shellQuote(binary)+" top --interval 1s")
	screen := s.waitScreen("the flagged row", true, func(sc string) bool {
		return strings.Contains(sc, strconv.Itoa(leak.PID)) && strings.Contains(sc, "CLOSE_WAIT_LEAK")
	})
	if strings.Contains(screen, "\x1b[") {
		t.Fatalf("escapes on screen with NO_COLOR set:\n%q", screen)
	}
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^> +%d |^  +%d `, leak.PID, leak.PID)).MatchString(screen) {
		t.Fatalf("the row lost its layout without colour:\n%s", screen)
	}
}

// TestTopPipedPrintsOneJSONPerRefresh: piped, top prints one ps-shaped document per
// refresh, one per line.
func TestTopPipedPrintsOneJSONPerRefresh(t *testing.T) {
	t.Parallel()
	leak := realnode.Start(t, "close_wait.js", realnode.Args("12"))
	out, errb, code := run(t, "top", "--count", "3", "--interval", "500ms")
	if code != 0 {
		t.Fatalf("top piped: exit %d: %s", code, errb)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines for 3 refreshes:\n%s", len(lines), out)
	}
	for i, l := range lines {
		var doc struct {
			Schema    string `json:"schema"`
			TakenAt   string `json:"taken_at"`
			Processes []struct {
				PID       int      `json:"pid"`
				CloseWait *int     `json:"close_wait"`
				Flags     []string `json:"flags"`
			} `json:"processes"`
		}
		if err := json.Unmarshal([]byte(l), &doc); err != nil {
			t.Fatalf("line %d is not one JSON document: %v\n%s", i, err, l)
		}
		found := false
		for _, p := range doc.Processes {
			if p.PID == leak.PID {
				found = p.CloseWait != nil && *p.CloseWait == 12 && slices.Contains(p.Flags, "CLOSE_WAIT_LEAK")
			}
		}
		if doc.Schema != "nodeinspect/v1" || !found {
			t.Fatalf("line %d: schema %q, leak pid %d with 12 CLOSE_WAIT found: %v\n%s", i, doc.Schema, leak.PID, found, l)
		}
	}
}

// waitFile waits up to 30 s for a file to exist and be non-empty.
func waitFile(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if st, err := os.Stat(name); err == nil && st.Size() > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not written within 30 s", name)
}

// vmRSS reads a process's resident memory in bytes.
func vmRSS(t *testing.T, pid int) uint64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestExporterChurn starts and kills 50 short-lived Node.js processes over 30 scrapes:
// every scrape shows exactly the ones alive (a killed process's series are gone on the
// next scrape, a started one is there), and the exporter's memory stays flat.
func TestExporterChurn(t *testing.T) {
	t.Parallel()
	base, d := startServe(t, "--sample", "100ms")
	servePid := d.cmd.Process.Pid
	const scrapes, total = 30, 50
	alive := map[int]*realnode.Proc{}
	killed := map[int]bool{}
	var order []int
	started := 0
	var warmRSS, peakRSS uint64
	last := time.Now()
	for i := 0; i < scrapes; i++ {
		// Churn between scrapes: two new processes per round while any of the 50 are left,
		// and those started two rounds ago killed (by pid, reaped).
		for n := 0; n < 2 && started < total; n++ {
			p := realnode.Start(t, "fleet_idle.js")
			alive[p.PID] = p
			order = append(order, p.PID)
			started++
		}
		for len(order) > 4 || (started == total && len(order) > 0 && i >= scrapes-3) {
			pid := order[0]
			order = order[1:]
			alive[pid].Kill(t)
			delete(alive, pid)
			killed[pid] = true
		}
		// A scan finished less than serve's share window (1 s) ago answers a scrape
		// again; wait it out so this scrape is a new scan.
		if wait := time.Second + 100*time.Millisecond - time.Since(last); wait > 0 {
			time.Sleep(wait)
		}
		text := scrape(t, base)
		last = time.Now()
		all := parseExposition(t, text)
		seen := servicesOfPid(all)
		for pid := range alive {
			if _, ok := seen[pid]; !ok {
				t.Fatalf("scrape %d: live pid %d missing", i, pid)
			}
		}
		for pid := range killed {
			if _, ok := seen[pid]; ok {
				t.Fatalf("scrape %d: killed pid %d still has series", i, pid)
			}
		}
		// Every service named by an _info series has its fd series, and no fd series
		// outlives its _info (the same scan makes both).
		services := map[[2]string]bool{}
		for _, v := range seen {
			services[v] = true
		}
		for _, s := range all {
			if s.name == "process_open_fds" && !services[[2]string{s.labels["service"], s.labels["container"]}] {
				t.Fatalf("scrape %d: process_open_fds of %q without a process", i, s.labels["service"])
			}
		}
		rss := vmRSS(t, servePid)
		if i == 5 {
			warmRSS = rss
		}
		peakRSS = max(peakRSS, rss)
	}
	if started != total || len(killed) != total {
		t.Fatalf("started %d, killed %d; want %d each", started, len(killed), total)
	}
	final := vmRSS(t, servePid)
	t.Logf("exporter RSS: after 5 scrapes %d KiB, peak %d KiB, after %d scrapes %d KiB", warmRSS>>10, peakRSS>>10, scrapes, final>>10)
	// Bounds: main sets a 48 MiB soft memory limit (GOMEMLIMIT) and the exporter keeps
	// nothing per process between scans but a name per live process, so RSS stays under
	// 50 MiB (the budget); growth after warm-up beyond 8 MiB would be a leak (a
	// scan of ~10 processes allocates well under 1 MiB, so 8 MiB is many scans' worth).
	if peakRSS > 50<<20 {
		t.Errorf("exporter peak RSS %d MiB, want under 50 MiB", peakRSS>>20)
	}
	if final > warmRSS+8<<20 {
		t.Errorf("exporter RSS grew from %d KiB to %d KiB over the churn", warmRSS>>10, final>>10)
	}
}

// TestServeStopsOnSIGTERM: systemd's and the kubelet's stop is a clean exit 0.
func TestServeStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	_, d := startServe(t)
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v (stderr %q)", err, d.stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve still running 15 s after SIGTERM")
	}
}

// TestExporterContainerSeries: a Node.js process in a docker-style memory cgroup with a
// limit and in a CPU-limited cgroup (0.2 CPUs) while it spins: the container label is the
// short id, and the container's limit, working set, OOM kills and throttled periods are
// exported, the throttling counter rising between scrapes.
func TestExporterContainerSeries(t *testing.T) {
	t.Parallel()
	id := randomName(32)
	mem := v1Cgroup(t, "memory", filepath.Join("nodeinspect-test-"+randomName(4), "docker", id))
	cpu := v1Cgroup(t, "cpu", "nodeinspect-test-"+randomName(4))
	writeFile(t, filepath.Join(cpu, "cpu.cfs_period_us"), "100000")
	writeFile(t, filepath.Join(cpu, "cpu.cfs_quota_us"), "20000")
	const limit = 512 << 20
	writeFile(t, filepath.Join(mem, "memory.limit_in_bytes"), strconv.Itoa(limit))
	p := realnode.Start(t, "busy.js", realnode.InCgroups(mem, cpu))
	base, _ := startServe(t, "--sample", "100ms")
	short := id[:12]
	value := func(all []series, name string) (float64, bool) {
		svc := servicesOfPid(all)[p.PID]
		for _, s := range all {
			if s.name == name && s.labels["service"] == svc[0] && s.labels["container"] == svc[1] {
				return s.value, true
			}
		}
		return 0, false
	}
	first := parseExposition(t, scrape(t, base))
	if got := servicesOfPid(first)[p.PID]; got[1] != short {
		t.Fatalf("container label of pid %d = %q, want %q", p.PID, got[1], short)
	}
	if v, ok := value(first, "nodeinspect_container_memory_limit_bytes"); !ok || v != limit {
		t.Errorf("memory limit = %v (present %v), want %d", v, ok, limit)
	}
	if v, ok := value(first, "nodeinspect_container_memory_working_set_bytes"); !ok || v <= 0 || v > limit {
		t.Errorf("working set = %v (present %v)", v, ok)
	}
	if v, ok := value(first, "nodeinspect_container_oom_kills_total"); !ok || v != 0 {
		t.Errorf("oom kills = %v (present %v), want 0", v, ok)
	}
	t1, ok := value(first, "nodeinspect_container_cpu_throttled_periods_total")
	if !ok {
		t.Fatal("no throttled periods series for a CPU-limited process")
	}
	// A spinning process at 0.2 CPUs is throttled in nearly every 100 ms period: wait for
	// the counter to rise (the share window is 1 s; a busy machine may delay the spin).
	deadline := time.Now().Add(30 * time.Second)
	for {
		time.Sleep(1100 * time.Millisecond)
		t2, _ := value(parseExposition(t, scrape(t, base)), "nodeinspect_container_cpu_throttled_periods_total")
		if t2 > t1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("throttled periods did not rise from %v in 30 s", t1)
		}
	}
}
