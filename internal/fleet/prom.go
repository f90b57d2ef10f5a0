package fleet

// This is the only file that imports prometheus/client_golang (one file per dependency, as
// the README's "Dependencies" section lists them).

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// promCollector is a prometheus.Collector that makes const metrics from one scan per
// Collect: nothing is remembered between scrapes, so a process that exited or restarted
// leaves no stale series behind.
type promCollector struct {
	scanner *Scanner
	descs   map[*Family]*prometheus.Desc
	// wait bounds how long one scrape waits for the scan.
	wait time.Duration
}

// Describe sends the fixed set of descriptors.
func (c *promCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range Families {
		ch <- c.descs[f]
	}
}

// Collect runs (or shares) a scan and sends its samples. A failed scan still sends the
// exporter's own series (scrape duration, processes 0, the error counters).
func (c *promCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.wait)
	defer cancel()
	scan, err := c.scanner.Scan(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.descs[ScrapeTime], err)
		return
	}
	for _, s := range Samples(scan) {
		vt := prometheus.GaugeValue
		if s.Family.Kind == Counter {
			vt = prometheus.CounterValue
		}
		m, err := prometheus.NewConstMetric(c.descs[s.Family], vt, s.Value, s.Values...)
		if err != nil {
			m = prometheus.NewInvalidMetric(c.descs[s.Family], err)
		}
		ch <- m
	}
}

// Handler returns the /metrics handler over a scanner: a registry with the scan's
// collector alone (no process collector: process_* here are the Node.js processes', with
// service and container labels, not the exporter's own). wait bounds a scrape's wait for
// the scan. A scrape whose series could not be all gathered still serves the rest.
func Handler(scanner *Scanner, wait time.Duration) (http.Handler, error) {
	c := &promCollector{scanner: scanner, descs: map[*Family]*prometheus.Desc{}, wait: wait}
	for _, f := range Families {
		c.descs[f] = prometheus.NewDesc(f.Name, f.Help, f.Labels, nil)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}), nil
}
