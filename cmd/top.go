package cmd

import (
	"bytes"
	"context"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v3"
	"golang.org/x/term"

	"github.com/nodeinspect/nodeinspect/internal/fleet"
	"github.com/nodeinspect/nodeinspect/report"
)

// Bounds of top's --interval: each refresh is a scan of every Node.js process (about the
// sample window plus the reads), so refreshing faster than half a second only measures the
// scan.
const (
	minTopInterval = 500 * time.Millisecond
	maxTopInterval = time.Hour
)

func init() {
	helps["top"] = commandHelp{examples: []string{
		"nodeinspect top                              live view, worst first (c cpu, m mem, f fds, enter: report)",
		"nodeinspect top --json | jq -c '.processes[] | select(.flags != [])'   one ps document per refresh",
		"nodeinspect top --json --count 1             one refresh, then exit",
	}, exits: []string{"0  quit (q, Ctrl-C, SIGTERM) or --count refreshes done", exitUsage2, exitBug70}}
}

// newTopCommand is the live view of every Node.js process.
func newTopCommand(deps Deps) *cli.Command {
	return &cli.Command{
		Name:  "top",
		Usage: "live view of every Node.js process on the host, worst first",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "interval", Value: 2 * time.Second, Usage: "time between refreshes (500ms to 1h)",
				Validator: durationIn("interval", minTopInterval, maxTopInterval, "500ms to 1h")},
			&cli.IntFlag{Name: "count", Usage: "stop after this many refreshes (default: until q, Ctrl-C or SIGTERM)"},
			&cli.BoolFlag{Name: "json", Usage: "one ps-shaped JSON document per refresh, one per line (also when piped)"},
			&cli.BoolFlag{Name: "no-color", Usage: "no colour (also when NO_COLOR is set)"},
			procFlag(),
			sampleFlag(),
			&cli.StringFlag{Name: "container", Usage: "only the processes of this container: a prefix of its id, or its pod uid"},
		},
		Action: func(ctx context.Context, c *cli.Command) error {
			o, err := readTopOptions(c, deps)
			if err != nil {
				return err
			}
			if o.json {
				return topJSON(ctx, deps, o.scanner, o.interval, o.count)
			}
			return topLive(ctx, deps, o.scanner, o.topSettings)
		},
	}
}

// topOptions are top's flags, read once: the live view's settings, whether to print JSON
// lines instead (--json, or stdout is not a terminal), and the scanner the flags describe.
type topOptions struct {
	topSettings
	json    bool
	scanner *fleet.Scanner
}

// readTopOptions reads top's flags (ranges: the flags' Validators, --count's from
// addValidators).
func readTopOptions(c *cli.Command, deps Deps) (topOptions, error) {
	if c.NArg() > 0 {
		return topOptions{}, usageError("top takes no arguments, got %q", c.Args().First())
	}
	scanner, proc := fleetScanner(c, deps)
	scanner.Timeout = 10 * time.Second
	return topOptions{
		topSettings: topSettings{interval: c.Duration("interval"), count: int(c.Int("count")),
			color: !c.Bool("no-color") && deps.Getenv("NO_COLOR") == "", proc: proc},
		json:    c.Bool("json") || !deps.IsTTY,
		scanner: scanner,
	}, nil
}

// topJSON prints one ps document per refresh, each on one line; warnings go to stderr
// once each.
func topJSON(ctx context.Context, deps Deps, scanner *fleet.Scanner, interval time.Duration, count int) error {
	warned := map[string]bool{}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for n := 0; count == 0 || n < count; n++ {
		scan, err := scanner.Scan(ctx)
		if err != nil {
			return nil // interrupted while waiting for the scan
		}
		if scan.Err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return scan.Err
		}
		var buf bytes.Buffer
		if err := report.RenderPS(&buf, scan.Result, report.Options{Format: report.FormatJSON, View: report.ViewPS, CompactJSON: true}); err != nil {
			return err
		}
		if err := writeOnce(deps, &buf); err != nil {
			return err
		}
		var fresh []string
		for _, w := range scan.Result.Warnings {
			if !warned[w] {
				warned[w] = true
				fresh = append(fresh, w)
			}
		}
		printWarnings(deps, fresh)
		if count != 0 && n+1 == count {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
	return nil
}

// topSettings are the live view's flags.
type topSettings struct {
	interval time.Duration
	count    int
	color    bool
	proc     string
}

// topView is the live view's state between frames.
type topView struct {
	deps     Deps
	set      topSettings
	scan     *fleet.Scan
	cpu      fleet.CPUMeter
	cpuNow   map[int]float64
	sortBy   string
	selected int
	// pager holds the lines of an open report (nil: the process list is shown).
	pager       []string
	pagerTitle  string
	pagerOffset int
}

// topLive runs the live view: the terminal in raw mode (keys without Enter) and on the
// alternate screen, restored on every way out (q, Ctrl-C, SIGTERM, an error, a panic).
func topLive(ctx context.Context, deps Deps, scanner *fleet.Scanner, set topSettings) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	v := &topView{deps: deps, set: set, sortBy: "worst"}
	keys := make(chan string, 16)
	if in, ok := deps.In.(*os.File); ok && term.IsTerminal(int(in.Fd())) {
		fd := int(in.Fd())
		state, rerr := term.MakeRaw(fd)
		if rerr == nil {
			defer func() { _ = term.Restore(fd, state) }()
			go readKeys(in, keys)
		}
	}
	if _, err := deps.Out.Write([]byte("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J")); err != nil {
		return err
	}
	// Deferred after the raw-mode restore, so it runs first: the screen comes back, then
	// the terminal's modes. Both run on a panic too (Run recovers above this frame).
	defer func() { _, _ = deps.Out.Write([]byte("\x1b[?25h\x1b[?1049l")) }()

	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)

	scans := make(chan *fleet.Scan, 1)
	go func() {
		ticker := time.NewTicker(set.interval)
		defer ticker.Stop()
		for {
			scan, err := scanner.Scan(ctx)
			if err != nil {
				return
			}
			select {
			case scans <- scan:
			case <-ctx.Done():
				return
			}
			select {
			case <-ticker.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	v.draw("scanning every Node.js process...")
	frames := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-winch:
			v.draw("")
		case scan := <-scans:
			v.scan, v.cpuNow = scan, v.cpu.Observe(scan)
			if scan.Err != nil && ctx.Err() == nil {
				v.draw("scan failed: " + scan.Err.Error())
			} else {
				v.draw("")
			}
			frames++
			if set.count > 0 && frames >= set.count {
				return nil
			}
		case k, ok := <-keys:
			if !ok {
				keys = nil
				continue
			}
			if quit := v.key(ctx, k); quit {
				return nil
			}
		}
	}
}

// readKeys sends what the terminal sends, one read at a time, until stdin ends.
func readKeys(in *os.File, keys chan<- string) {
	buf := make([]byte, 64)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			keys <- string(buf[:n])
		}
		if err != nil {
			close(keys)
			return
		}
	}
}

// key handles what one read of the terminal held; it reports whether to quit.
func (v *topView) key(ctx context.Context, k string) bool {
	for len(k) > 0 {
		seq := k[:1]
		for _, s := range []string{"\x1b[A", "\x1b[B", "\x1b[5~", "\x1b[6~", "\x1bOA", "\x1bOB"} {
			if strings.HasPrefix(k, s) {
				seq = s
				break
			}
		}
		k = k[len(seq):]
		if v.pager != nil {
			switch seq {
			case "q", "\x1b", "h", "\x7f":
				v.pager = nil
			case "\x03":
				return true
			case "j", "\x1b[B", "\x1bOB":
				v.pagerOffset++
			case "k", "\x1b[A", "\x1bOA":
				v.pagerOffset--
			case " ", "\x1b[6~":
				v.pagerOffset += 10
			case "b", "\x1b[5~":
				v.pagerOffset -= 10
			}
			v.pagerOffset = max(0, min(v.pagerOffset, len(v.pager)-1))
			v.draw("")
			continue
		}
		switch seq {
		case "q", "\x03":
			return true
		case "w":
			v.sortBy = "worst"
		case "c":
			v.sortBy = "cpu"
		case "m":
			v.sortBy = "mem"
		case "f":
			v.sortBy = "fds"
		case "p":
			v.sortBy = "pid"
		case "j", "\x1b[B", "\x1bOB":
			v.move(1)
		case "k", "\x1b[A", "\x1bOA":
			v.move(-1)
		case "\r", "\n", "r":
			if v.selected != 0 {
				v.openReport(ctx, v.selected)
			}
		}
		v.draw("")
	}
	return false
}

// move shifts the selection by d rows in the order shown.
func (v *topView) move(d int) {
	rows := v.rows()
	if len(rows) == 0 {
		return
	}
	i := slices.IndexFunc(rows, func(r report.TopRow) bool { return r.PID == v.selected })
	switch {
	case i < 0 && d > 0:
		i = 0
	case i < 0:
		i = len(rows) - 1
	default:
		i = max(0, min(len(rows)-1, i+d))
	}
	v.selected = rows[i].PID
}

// openReport renders `nodeinspect report <pid>` for the terminal's width into the pager.
func (v *topView) openReport(ctx context.Context, pid int) {
	width, _ := v.size()
	v.draw("reading the report of pid " + strconv.Itoa(pid) + "...")
	args := []string{"nodeinspect", "report", strconv.Itoa(pid), "--fail-on", "never", "--proc", v.set.proc}
	if !v.set.color {
		args = append(args, "--no-color")
	}
	var out, errb bytes.Buffer
	Run(ctx, args, Deps{Proc: v.deps.Proc, Out: &out, Err: &errb, Now: v.deps.Now, IsTTY: true, Width: width, Getenv: v.deps.Getenv, UserName: v.deps.UserName})
	text := strings.TrimRight(out.String()+errb.String(), "\n")
	v.pager = strings.Split(text, "\n")
	v.pagerTitle = "report of pid " + strconv.Itoa(pid) + "   ↑↓ j k scroll  space b page  q back"
	v.pagerOffset = 0
}

// size is the terminal's size now (it follows a resize), 80x24 when unknown.
func (v *topView) size() (int, int) {
	if out, ok := v.deps.Out.(*os.File); ok {
		if w, h, err := term.GetSize(int(out.Fd())); err == nil && w > 0 && h > 0 {
			return w, h
		}
	}
	if v.deps.TermWidth != nil {
		if w := v.deps.TermWidth(); w > 0 {
			return w, 24
		}
	}
	return 80, 24
}

// draw writes the current frame in one write.
func (v *topView) draw(status string) {
	width, height := v.size()
	var buf bytes.Buffer
	if v.pager != nil {
		_ = report.RenderTopPager(&buf, v.pagerTitle, v.pager, v.pagerOffset, width, height, v.set.color)
		_, _ = v.deps.Out.Write(buf.Bytes())
		return
	}
	f := report.TopFrame{Sort: v.sortBy, Selected: v.selected, Width: width, Height: height, Color: v.set.color, Status: status}
	if v.scan != nil {
		f.TakenAt, f.Rows = v.scan.TakenAt, v.rows()
		if status == "" && v.scan.Result != nil && len(v.scan.Result.Warnings) > 0 {
			f.Status = strconv.Itoa(len(v.scan.Result.Warnings)) + " warnings (nodeinspect ps shows them)"
		}
	} else {
		f.TakenAt = time.Now()
	}
	_ = report.RenderTop(&buf, f)
	_, _ = v.deps.Out.Write(buf.Bytes())
}

// rows are the scan's processes as top rows, in the chosen order.
func (v *topView) rows() []report.TopRow {
	if v.scan == nil {
		return nil
	}
	rows := make([]report.TopRow, 0, len(v.scan.Processes))
	for _, p := range v.scan.Processes {
		rows = append(rows, topRow(p, v.cpuNow, v.scan.Sampled))
	}
	sortTop(rows, v.sortBy)
	return rows
}

// topRow is one process of a scan on the top screen.
func topRow(p fleet.Proc, cpu map[int]float64, sampled bool) report.TopRow {
	r := p.Row
	row := report.TopRow{PID: r.PID, Service: p.Service, Container: p.Container, RSSBytes: r.RSSBytes,
		FDsOpen: r.FDsOpen, FDLimit: r.OpenFilesSoft, CloseWait: r.CloseWait, Zombies: r.Zombies,
		Loop: fleet.LoopVerdict(r), Flags: r.Flags, Severity: r.Severity}
	if c, ok := cpu[r.PID]; ok {
		row.CPUPercent = &c
	}
	if sampled && r.FDsOpen != nil && r.CloseWait != nil {
		n := fleet.StalledCount(r.Findings)
		row.Stalled = &n
	}
	return row
}

// sortTop orders rows: worst keeps ps's order (severity, flags, fd use, RSS).
func sortTop(rows []report.TopRow, by string) {
	num := func(p *uint64) uint64 {
		if p == nil {
			return 0
		}
		return *p
	}
	ratio := func(r report.TopRow) float64 {
		if r.FDsOpen == nil || r.FDLimit == nil || *r.FDLimit == 0 {
			return 0
		}
		return float64(*r.FDsOpen) / float64(*r.FDLimit)
	}
	cpu := func(r report.TopRow) float64 {
		if r.CPUPercent == nil {
			return -1
		}
		return *r.CPUPercent
	}
	switch by {
	case "cpu":
		sort.SliceStable(rows, func(i, j int) bool { return cpu(rows[i]) > cpu(rows[j]) })
	case "mem":
		sort.SliceStable(rows, func(i, j int) bool { return num(rows[i].RSSBytes) > num(rows[j].RSSBytes) })
	case "fds":
		sort.SliceStable(rows, func(i, j int) bool { return ratio(rows[i]) > ratio(rows[j]) })
	case "pid":
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].PID < rows[j].PID })
	}
}
