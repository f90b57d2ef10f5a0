package rules

import (
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

func TestOwnersSummary(t *testing.T) {
	srv := "http.Server on :3000"
	fd := func(o *model.SocketOwner) model.FD { return model.FD{Owner: o} }
	var fds []model.FD
	for i := 0; i < 31; i++ {
		fds = append(fds, fd(&model.SocketOwner{Role: "accepted", Server: srv, Request: &model.OwnerRequest{Method: "POST", Path: "/upload"}}))
	}
	for i := 0; i < 7; i++ {
		fds = append(fds, fd(&model.SocketOwner{Role: "accepted", Server: srv, Request: &model.OwnerRequest{Method: "GET", Path: "/health"}}))
	}
	fds = append(fds, fd(nil), fd(nil))
	got, ev := ownersSummary(fds, "CLOSE_WAIT sockets")
	want := "38 of 40 CLOSE_WAIT sockets were accepted by the http.Server on :3000; requests in flight: POST /upload (31), GET /health (7)"
	if got != want || intOf(ev["owners_known"]) != 38 {
		t.Errorf("ownersSummary = %q, %v\nwant %q", got, ev, want)
	}
	if got, ev := ownersSummary([]model.FD{fd(nil)}, "x"); got != "" || ev != nil {
		t.Errorf("no owner known: %q %v", got, ev)
	}
	client := []model.FD{fd(&model.SocketOwner{Role: "client", Agent: "http.globalAgent", Upstream: "api:443", Idle: true})}
	if got, _ := ownersSummary(client, "stalled sockets"); !strings.Contains(got, "1 of 1 stalled sockets are client sockets to api:443") {
		t.Errorf("client summary %q", got)
	}
	many := map[string]int{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7}
	if got := countsText(many, 5); got != "g (7), f (6), e (5), d (4), c (3), and 2 more" {
		t.Errorf("countsText = %q", got)
	}
}

// TestOwnersSummaryAges: the oldest request of each kind still being received is named
// with its age, in the text and in the evidence; requests without an age keep the count.
func TestOwnersSummaryAges(t *testing.T) {
	srv := "http.Server on :3000"
	var fds []model.FD
	for _, age := range []int64{3_000, 42_900, 7_000} {
		fds = append(fds, model.FD{Owner: &model.SocketOwner{Role: "accepted", Server: srv, Request: &model.OwnerRequest{Method: "POST", Path: "/upload", AgeMS: i64(age)}}})
	}
	fds = append(fds, model.FD{Owner: &model.SocketOwner{Role: "accepted", Server: srv, Request: &model.OwnerRequest{Method: "GET", Path: "/health"}}})
	got, ev := ownersSummary(fds, "stalled sockets")
	want := "4 of 4 stalled sockets were accepted by the http.Server on :3000; requests in flight: POST /upload (3, oldest 42 s), GET /health (1)"
	if got != want {
		t.Errorf("ownersSummary = %q\nwant %q", got, want)
	}
	if o, ok := ev["requests_oldest_ms"].Object(); !ok || o["POST /upload"] != evidence.Int(42_900) || len(o) != 1 {
		t.Errorf("requests_oldest_ms = %v", ev["requests_oldest_ms"])
	}
	for ms, want := range map[int64]string{350: "350 ms", 42_000: "42 s", 600_000: "10 min", 3 * 3_600_000: "3.0 h"} {
		if got := model.AgeWords(ms); got != want {
			t.Errorf("ageWords(%d) = %q, want %q", ms, got, want)
		}
	}
}

// TestOwnersSummaryLowerBounds: a kind whose oldest request arrived in full says its age
// is a lower bound; an exact age older than every bound is exact.
func TestOwnersSummaryLowerBounds(t *testing.T) {
	srv := "http.Server on :3000"
	var fds []model.FD
	add := func(method string, age int64, atLeast bool) {
		fds = append(fds, model.FD{Owner: &model.SocketOwner{Role: "accepted", Server: srv, Request: &model.OwnerRequest{Method: method, Path: "/x", AgeMS: i64(age), AgeAtLeast: atLeast}}})
	}
	add("GET", 5_000, true)
	add("GET", 61_000, true)
	add("POST", 70_000, false)
	add("POST", 20_000, true)
	got, _ := ownersSummary(fds, "CLOSE_WAIT sockets")
	want := "requests in flight: GET /x (2, oldest ≥ 61 s), POST /x (2, oldest 70 s)"
	if !strings.Contains(got, want) {
		t.Errorf("ownersSummary = %q\nwant it to say %q", got, want)
	}
}

func TestRuleEventLoopDelay(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	snap := func(p99 float64) *model.Snapshot {
		return &model.Snapshot{EventLoop: &model.EventLoop{Delay: &model.LoopDelay{P50MS: f(10), P99MS: f(p99), MaxMS: f(p99 + 1), Utilization: f(0.5), WindowMS: 300}}}
	}
	ctx := EvalContext{Thresholds: DefaultThresholds()}
	if got := ruleEventLoopDelay(snap(99), ctx); len(got) != 0 {
		t.Errorf("p99 99 ms: %+v", got)
	}
	if got := ruleEventLoopDelay(snap(100), ctx); len(got) != 1 || got[0].Severity != model.SeverityWarning {
		t.Errorf("p99 100 ms: %+v", got)
	}
	if got := ruleEventLoopDelay(snap(1000), ctx); len(got) != 1 || got[0].Severity != model.SeverityCritical {
		t.Errorf("p99 1 s: %+v", got)
	}
	unmeasured := &model.Snapshot{EventLoop: &model.EventLoop{Delay: &model.LoopDelay{Utilization: f(1)}}}
	if got := ruleEventLoopDelay(unmeasured, ctx); len(got) != 0 {
		t.Errorf("no delay recorded must not be a finding: %+v", got)
	}
}
