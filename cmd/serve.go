package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect/ps"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/internal/fleet"
)

// defaultListen is serve's address: loopback, so a host's process list is not published
// to the network unless asked (--listen :9870).
const defaultListen = "127.0.0.1:9870"

// scanShareWindow is how long a finished scan answers further scrapes: two Prometheus
// servers (an HA pair) scraping the same exporter a moment apart cost one scan.
const scanShareWindow = time.Second

func init() {
	helps["serve"] = commandHelp{examples: []string{
		"nodeinspect serve                            /metrics and /healthz on 127.0.0.1:9870",
		"nodeinspect serve --listen :9870 --proc /host/proc   in a DaemonSet (deploy/daemonset.yaml)",
		"curl -s localhost:9870/metrics | grep nodeinspect_finding",
	}, exits: []string{"0  stopped by SIGTERM or Ctrl-C", exitUsage2 + "; the --listen address is in use or invalid", exitBug70}}
}

// serveFlags are serve's flags: no --json, --format or --fail-on (it prints nothing and
// judges nothing; Prometheus's alert rules do).
func serveFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "listen", Value: defaultListen, Usage: "address to serve /metrics and /healthz on (host:port)"},
		&cli.DurationFlag{Name: "scrape-timeout", Value: 10 * time.Second, Usage: "bound on one scan of every Node.js process (keep it under Prometheus's scrape_timeout)",
			Validator: durationIn("scrape-timeout", 100*time.Millisecond, 5*time.Minute, "100ms up to 5m")},
		sampleFlag(),
		procFlag(),
		&cli.StringFlag{Name: "container", Usage: "only the processes of this container: a prefix of its id, or its pod uid"},
	}
}

// newServeCommand is the Prometheus exporter.
func newServeCommand(deps Deps) *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "Prometheus exporter of every Node.js process on the host: /metrics and /healthz",
		Flags: serveFlags(),
		Action: func(ctx context.Context, c *cli.Command) error {
			o, err := readServeOptions(c, deps)
			if err != nil {
				return err
			}
			// main's GOGC=400 suits a run that lives a second; a server that scans forever
			// collects at the default pace, so its RSS stays near what one scan needs.
			if os.Getenv("GOGC") == "" {
				debug.SetGCPercent(100)
			}
			return serve(ctx, deps, o.listen, o.scanner, o.timeout)
		},
	}
}

// fleetScanner reads the flags serve and top share (--proc, --sample, --container) into a
// scanner of the host's Node.js processes, and returns the proc root it reads.
func fleetScanner(c *cli.Command, deps Deps) (*fleet.Scanner, string) {
	opt := options{proc: deps.Proc}
	if v := c.String("proc"); v != "" { // checked as it is parsed: procFlag
		opt.proc = v
	}
	sample := c.Duration("sample") // range: sampleFlag's Validator
	return &fleet.Scanner{
		Collector: newCollector(deps, opt),
		Options:   ps.Options{Thresholds: rules.DefaultThresholds(), Sample: sample, Container: c.String("container")},
	}, opt.proc
}

// serveOptions are serve's flags, read once: the address to listen on, the bound on one
// scan, and the scanner the flags describe.
type serveOptions struct {
	listen  string
	timeout time.Duration
	scanner *fleet.Scanner
}

// readServeOptions reads serve's flags (--scrape-timeout's range: its Validator) and
// checks that the sample window fits in a scan.
func readServeOptions(c *cli.Command, deps Deps) (serveOptions, error) {
	if c.NArg() > 0 {
		return serveOptions{}, usageError("serve takes no arguments, got %q", c.Args().First())
	}
	scanner, _ := fleetScanner(c, deps)
	o := serveOptions{listen: c.String("listen"), timeout: c.Duration("scrape-timeout"), scanner: scanner}
	if scanner.Options.Sample >= o.timeout {
		return o, usageError("--sample %s does not fit in --scrape-timeout %s: give a shorter window", scanner.Options.Sample, o.timeout)
	}
	scanner.Timeout, scanner.MaxAge = o.timeout, scanShareWindow
	return o, nil
}

// serve listens on addr and serves until ctx ends (SIGTERM, Ctrl-C). An address that
// cannot be listened on is a usage error: one line, exit 2.
func serve(ctx context.Context, deps Deps, addr string, scanner *fleet.Scanner, timeout time.Duration) error {
	metrics, err := fleet.Handler(scanner, timeout+time.Second)
	if err != nil {
		return fmt.Errorf("exporter: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return usageError("--listen %s: the address is already in use: stop what listens there or give another --listen", addr)
	case errors.Is(err, syscall.EACCES):
		return usageError("--listen %s: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE): give another --listen", addr)
	case err != nil:
		return usageError("--listen %s: %v: give host:port, e.g. 127.0.0.1:9870", addr, unwrapOpError(err))
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintln(w, `<html><head><title>nodeinspect</title></head><body><h1>nodeinspect exporter</h1><p><a href="/metrics">/metrics</a> <a href="/healthz">/healthz</a></p></body></html>`)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(deps.Err, "nodeinspect: serving http://%s/metrics\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve %s: %w", addr, err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	return nil
}

// unwrapOpError returns the reason of a *net.OpError without repeating the address.
func unwrapOpError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
