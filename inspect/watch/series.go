package watch

import (
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/trend"
)

// seriesOf extracts the named metric from samples, skipping samples that lack it.
func seriesOf(samples []*model.Sample, name string) Series {
	s := Series{Name: name}
	if len(samples) == 0 {
		return s
	}
	t0 := samples[0].TakenAt
	for _, x := range samples {
		if v, ok := x.Value(name); ok {
			s.Points = append(s.Points, trend.Point{T: x.TakenAt.Sub(t0).Seconds(), V: v})
		}
	}
	return s
}

// Series is a metric over the samples of a watch.
type Series struct {
	// Name is the metric: "fds", "close_wait", "rss_bytes", "heap_used_bytes".
	Name   string
	Points []trend.Point
}
