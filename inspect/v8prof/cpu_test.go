package v8prof

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// cpuDoc: (root) -> main -> hot (recursive: hot -> hot), main -> cold; plus (idle),
// (program) and (garbage collector). 10 samples, 1000 µs apart.
const cpuDoc = `{"nodes":[
 {"id":1,"callFrame":{"functionName":"(root)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1},"hitCount":0,"children":[2,5,6,7]},
 {"id":2,"callFrame":{"functionName":"main","scriptId":"3","url":"file:///app/x.js","lineNumber":9,"columnNumber":0},"hitCount":0,"children":[3,8]},
 {"id":3,"callFrame":{"functionName":"hot","scriptId":"3","url":"file:///app/x.js","lineNumber":1,"columnNumber":12},"hitCount":0,"children":[4]},
 {"id":4,"callFrame":{"functionName":"hot","scriptId":"3","url":"file:///app/x.js","lineNumber":1,"columnNumber":12},"hitCount":0,"children":[]},
 {"id":5,"callFrame":{"functionName":"(idle)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1},"hitCount":0},
 {"id":6,"callFrame":{"functionName":"(program)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1},"hitCount":0},
 {"id":7,"callFrame":{"functionName":"(garbage collector)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1},"hitCount":0},
 {"id":8,"callFrame":{"functionName":"","scriptId":"3","url":"file:///app/x.js","lineNumber":20,"columnNumber":3},"hitCount":0}
],"startTime":1000,"endTime":11000,"samples":[3,4,4,3,5,5,6,7,8,2],"timeDeltas":[0,1000,1000,1000,1000,1000,1000,1000,1000,1000]}`

func TestCPUSummary(t *testing.T) {
	p, err := ParseCPUProfile([]byte(cpuDoc))
	if err != nil {
		t.Fatal(err)
	}
	s := p.Summarize(0)
	if s.Samples != 10 || s.DurationUs != 10000 || s.IntervalUs != 1000 {
		t.Errorf("samples/duration/interval = %d/%d/%v", s.Samples, s.DurationUs, s.IntervalUs)
	}
	if s.IdlePercent != 20 || s.ProgramPercent != 10 || s.GCPercent != 10 || s.JSPercent != 60 || s.Idle {
		t.Errorf("shares idle/program/gc/js = %v/%v/%v/%v idle=%v", s.IdlePercent, s.ProgramPercent, s.GCPercent, s.JSPercent, s.Idle)
	}
	top := s.BySelf[0]
	if top.Frame != (Frame{"hot", "file:///app/x.js", 2, 13, "3"}) || top.SelfSamples != 4 || top.SelfUs != 4000 || top.SelfPercent != 40 {
		t.Errorf("top self = %+v", top)
	}
	// hot: recursive, counted once per sample: 4 samples, not 6.
	if top.TotalSamples != 4 || top.TotalPercent != 40 {
		t.Errorf("hot total = %d samples %v%%, want 4, 40%%", top.TotalSamples, top.TotalPercent)
	}
	if s.ByTotal[0].Frame.Function != "main" || s.ByTotal[0].TotalSamples != 6 || s.ByTotal[0].SelfSamples != 1 {
		t.Errorf("top total = %+v, want main with 6 samples (1 self)", s.ByTotal[0])
	}
	if len(s.BySelf) != 3 || s.BySelf[2].Frame.Function != "(anonymous)" && s.BySelf[1].Frame.Function != "(anonymous)" {
		t.Errorf("self list = %+v", s.BySelf)
	}
	var names []string
	for _, f := range s.Hottest {
		names = append(names, f.Function)
	}
	if strings.Join(names, "<") != "hot<main" || s.HotShare != 20 { // ties (node 3 and 4, 2 samples each) go to the lower id
		t.Errorf("hottest = %v (%v%%), want hot<main, 20%%", names, s.HotShare)
	}
}

func TestCPUIdle(t *testing.T) {
	doc := strings.Replace(cpuDoc, `"samples":[3,4,4,3,5,5,6,7,8,2]`, `"samples":[5,5,5,5,5,5,5,5,6,6]`, 1)
	p, err := ParseCPUProfile([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Summarize(0); !s.Idle || len(s.BySelf) != 0 {
		t.Errorf("idle = %v, self list %+v", s.Idle, s.BySelf)
	}
}

func TestCPUFolded(t *testing.T) {
	p, err := ParseCPUProfile([]byte(cpuDoc))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.WriteFolded(&buf); err != nil {
		t.Fatal(err)
	}
	want := `(garbage collector) 1
(idle) 2
(program) 1
main (file:///app/x.js:10) 1
main (file:///app/x.js:10);(anonymous) (file:///app/x.js:21) 1
main (file:///app/x.js:10);hot (file:///app/x.js:2) 2
main (file:///app/x.js:10);hot (file:///app/x.js:2);hot (file:///app/x.js:2) 2
`
	if buf.String() != want {
		t.Errorf("folded:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestCPUPprof(t *testing.T) {
	p, err := ParseCPUProfile([]byte(cpuDoc))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.WritePprof(&buf, time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	got, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var hot int64
	for _, s := range got.Sample {
		if s.Location[0].Line[0].Function.Name == "hot" {
			hot += s.Value[1]
		}
	}
	if hot != 4000*1000 || got.Period != 1000*1000 || got.DurationNanos != 10000*1000 {
		t.Errorf("hot cpu %d ns, period %d, duration %d", hot, got.Period, got.DurationNanos)
	}
	if l := got.Sample[0].Location[0].Line[0]; l.Function.Filename == "" && l.Function.Name != "(idle)" && l.Function.Name != "(program)" && l.Function.Name != "(garbage collector)" {
		t.Errorf("a JavaScript frame without a file: %+v", l.Function)
	}
}

func TestCPUMalformed(t *testing.T) {
	cases := []struct{ name, doc, want string }{
		{"not json", `{`, "not a V8 CPU profile"},
		{"no nodes", `{"nodes":[]}`, "no nodes"},
		{"duplicate id", `{"nodes":[{"id":1,"children":[]},{"id":1}]}`, "twice"},
		{"unknown child", `{"nodes":[{"id":1,"children":[9]}]}`, "unknown child"},
		{"two parents", `{"nodes":[{"id":1,"children":[3]},{"id":2,"children":[3]},{"id":3}]}`, "two parents"},
		{"self parent", `{"nodes":[{"id":1,"children":[1]}]}`, "two parents"},
		{"cycle", `{"nodes":[{"id":1,"children":[2]},{"id":2,"children":[1]}]}`, "cycle"},
		{"unknown sample", `{"nodes":[{"id":1}],"samples":[2]}`, "unknown node 2"},
		{"a string where numbers go", `{"nodes":[{"id":"x"}]}`, "not a V8 CPU profile"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseCPUProfile([]byte(c.doc))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

// Odd timing data never produces negative times: deltas that go backwards, deltas missing.
func TestCPUOddTiming(t *testing.T) {
	doc := strings.Replace(cpuDoc, `"timeDeltas":[0,1000,1000,1000,1000,1000,1000,1000,1000,1000]`, `"timeDeltas":[0,1000,-5000,1000,1000,1000,1000,1000,1000,1000]`, 1)
	p, err := ParseCPUProfile([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range p.Summarize(0).BySelf {
		if st.SelfUs < 0 || st.TotalUs < 0 {
			t.Errorf("negative time %+v", st)
		}
	}
	doc = strings.Replace(cpuDoc, `"timeDeltas":[0,1000,1000,1000,1000,1000,1000,1000,1000,1000]`, `"timeDeltas":[]`, 1)
	p, err = ParseCPUProfile([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Summarize(0); s.BySelf[0].SelfUs != 4000 {
		t.Errorf("without deltas hot self = %d µs, want 4000 (10 ms / 10 samples × 4)", s.BySelf[0].SelfUs)
	}
}

func FuzzCPUProfile(f *testing.F) {
	f.Add([]byte(cpuDoc))
	f.Add([]byte(`{"nodes":[{"id":1,"children":[2]},{"id":2}],"samples":[2,2,1],"timeDeltas":[1,-2]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := ParseCPUProfile(doc)
		if err != nil {
			return
		}
		s := p.Summarize(5)
		if s.IdlePercent < 0 || s.JSPercent < -1e-9 || len(s.BySelf) > 5 {
			t.Fatalf("odd summary %+v", s)
		}
		var buf bytes.Buffer
		if err := p.WriteFolded(&buf); err != nil {
			t.Fatal(err)
		}
		if err := p.WritePprof(&buf, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMergeCPUProfiles(t *testing.T) {
	a, err := ParseCPUProfile([]byte(cpuDoc))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseCPUProfile([]byte(strings.NewReplacer(`"startTime":1000,"endTime":11000`, `"startTime":12000,"endTime":22000`, `"id":8,`, `"id":80,`, `[3,8]`, `[3,80]`, `6,7,8,2]`, `6,7,80,2]`).Replace(cpuDoc)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := MergeCPUProfiles(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Nodes) != len(a.Nodes) || len(m.Samples) != 20 || m.StartTime != 1000 || m.EndTime != 22000 {
		t.Fatalf("merged: %d nodes, %d samples, %d..%d", len(m.Nodes), len(m.Samples), m.StartTime, m.EndTime)
	}
	// The first sample of b is at 12000: 2000 µs after the last of a (at 10000).
	if m.TimeDeltas[10] != 2000 {
		t.Errorf("delta across the join = %d, want 2000 (a's last sample at 10000, b's first at 12000)", m.TimeDeltas[10])
	}
	s := m.Summarize(0)
	if s.BySelf[0].Frame.Function != "hot" || s.BySelf[0].SelfSamples != 8 {
		t.Errorf("top of the merge %+v, want hot with 8 samples", s.BySelf[0])
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseCPUProfile(raw); err != nil {
		t.Errorf("the merged .cpuprofile does not parse again: %v", err)
	}
}
