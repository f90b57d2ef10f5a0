package fleet

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/ps"
)

// Proc is one Node.js process of a scan, named.
type Proc struct {
	// Row is the ps row (its Snapshot holds what the scan read).
	Row model.PSRow
	// Service is the stable name, unique within Container.
	Service string
	// Container is ps's short container name ("" outside a container).
	Container string
	// Identity is where the name came from, and the Node.js version.
	Identity Identity
}

// Scan is one pass over the host.
type Scan struct {
	// TakenAt is when the scan started; Duration how long it took.
	TakenAt  time.Time
	Duration time.Duration
	// Result is ps's document (nil when the scan failed).
	Result *model.PSResult
	// Processes are the rows of Result, named, in Result's order (worst first).
	Processes []Proc
	// Err is why the scan failed (nil when it ran; per-process gaps are in ErrorsTotal).
	Err error
	// ErrorsTotal counts what could not be read, by kind, over every scan of the Scanner
	// so far (the exporter's nodeinspect_probe_errors_total).
	ErrorsTotal map[string]uint64
	// Sampled is set when the scan watched a sample window (STALLED_SOCKETS is decided
	// over one: without it the stalled count is unknown, not 0).
	Sampled bool
	// Unreadable lists, per process index, the sections that could not be read.
	Unreadable [][]string
}

// Scanner runs inspect's ps scan for many callers: a caller that asks while a scan runs
// waits for it, and one that asks within MaxAge of the last scan's end gets that scan, so
// scrapes from two Prometheus servers (or top and a scrape) cost one scan.
type Scanner struct {
	// Collector reads the proc tree.
	Collector *inspect.Collector
	// Options are ps's options (the shared sample window, thresholds, --container).
	Options ps.Options
	// MaxAge is how long a finished scan is served again.
	MaxAge time.Duration
	// Timeout bounds one scan (--scrape-timeout).
	Timeout time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu       sync.Mutex
	inflight *flight
	last     *Scan
	lastEnd  time.Time
	names    map[procKey]Identity
	errors   map[string]uint64
}

// flight is a scan being run; done is closed when scan is set.
type flight struct {
	done chan struct{}
	scan *Scan
}

// procKey names a process across scans: a reused pid has another start time.
type procKey struct {
	pid   int
	start uint64
}

// Scan returns a scan no older than MaxAge, running one when needed. ctx bounds only the
// wait of this caller: the scan itself runs to its own Timeout for everyone waiting on it.
func (s *Scanner) Scan(ctx context.Context) (*Scan, error) {
	s.mu.Lock()
	if s.last != nil && s.now().Sub(s.lastEnd) < s.MaxAge {
		last := s.last
		s.mu.Unlock()
		return last, nil
	}
	f := s.inflight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		s.inflight = f
		go s.run(f)
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.scan, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Scanner) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// run makes one scan and publishes it.
func (s *Scanner) run(f *flight) {
	scan := s.scan()
	s.mu.Lock()
	s.last, s.lastEnd, s.inflight = scan, s.now(), nil
	f.scan = scan
	s.mu.Unlock()
	close(f.done)
}

// scan runs ps once with the timeout and names its processes.
func (s *Scanner) scan() *Scan {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := s.now()
	res, err := ps.Scan(ctx, s.Collector, s.Options)
	scan := &Scan{TakenAt: start, Duration: s.now().Sub(start), Result: res, Err: err, Sampled: s.Options.Sample > 0}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.errors == nil {
		s.errors = map[string]uint64{}
	}
	if s.names == nil {
		s.names = map[procKey]Identity{}
	}
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		s.errors["timeout"]++
	case err != nil:
		s.errors["scan"]++
	}
	if res != nil {
		seen := make(map[procKey]bool, len(res.Processes))
		list := make([]named, len(res.Processes))
		for i, row := range res.Processes {
			k := procKey{row.PID, row.StartTicks}
			seen[k] = true
			id, ok := s.names[k]
			if !ok {
				comm := ""
				if row.Snapshot != nil && row.Snapshot.Process != nil {
					comm = row.Snapshot.Process.Comm
				}
				id = identify(s.Collector.FS, row.PID, row.Cmdline, comm)
				s.names[k] = id
			}
			ctr := ""
			if row.Container != nil {
				ctr = *row.Container
			}
			list[i] = named{id: id, container: ctr, startTicks: row.StartTicks, pid: row.PID}
		}
		// Names of processes that are gone are forgotten, so the cache stays the size of
		// the host's Node.js processes however many come and go.
		for k := range s.names {
			if !seen[k] {
				delete(s.names, k)
			}
		}
		services := dedupe(list)
		scan.Processes = make([]Proc, len(res.Processes))
		scan.Unreadable = make([][]string, len(res.Processes))
		for i, row := range res.Processes {
			scan.Processes[i] = Proc{Row: row, Service: services[i], Container: list[i].container, Identity: list[i].id}
			gaps := unreadable(row)
			scan.Unreadable[i] = gaps
			for _, g := range gaps {
				s.errors[g]++
			}
		}
	}
	scan.ErrorsTotal = make(map[string]uint64, len(s.errors))
	for k, v := range s.errors {
		scan.ErrorsTotal[k] = v
	}
	return scan
}

// unreadable lists the sections of a ps row that could not be read: status (RSS), limits,
// fds (the count), sockets (the fd table, hence socket states, CLOSE_WAIT and deleted
// files).
func unreadable(row model.PSRow) []string {
	var gaps []string
	if row.RSSBytes == nil {
		gaps = append(gaps, "status")
	}
	snap := row.Snapshot
	if snap == nil || snap.Limits == nil {
		gaps = append(gaps, "limits")
	}
	if row.FDsOpen == nil {
		gaps = append(gaps, "fds")
	}
	if snap == nil || snap.FDs == nil || snap.FDs.List == nil {
		gaps = append(gaps, "sockets")
	}
	return gaps
}
