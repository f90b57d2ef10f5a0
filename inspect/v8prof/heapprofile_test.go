package v8prof

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

const heapDoc = `{"head":{"callFrame":{"functionName":"(root)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1},"selfSize":0,"id":1,"children":[
 {"callFrame":{"functionName":"main","scriptId":"3","url":"file:///app/a.js","lineNumber":4,"columnNumber":0},"selfSize":100,"id":2,"children":[
   {"callFrame":{"functionName":"makeThing","scriptId":"3","url":"file:///app/a.js","lineNumber":0,"columnNumber":20},"selfSize":5000,"id":3,"children":[]}]},
 {"callFrame":{"functionName":"makeThing","scriptId":"3","url":"file:///app/a.js","lineNumber":0,"columnNumber":20},"selfSize":3000,"id":4,"children":[]}]},
 "samples":[{"size":5000,"nodeId":3,"ordinal":1},{"size":3000,"nodeId":4,"ordinal":2},{"size":100,"nodeId":2,"ordinal":3}]}`

func TestHeapProfileSummary(t *testing.T) {
	h, err := ParseHeapProfile([]byte(heapDoc))
	if err != nil {
		t.Fatal(err)
	}
	s := h.Summarize(0)
	if s.TotalBytes != 8100 || len(s.Sites) != 2 {
		t.Fatalf("summary %+v", s)
	}
	top := s.Sites[0]
	if top.Frame != (Frame{"makeThing", "file:///app/a.js", 1, 21, "3"}) || top.SelfBytes != 8000 || top.Samples != 2 {
		t.Errorf("top site %+v, want makeThing a.js:1 with 8000 bytes from 2 samples", top)
	}
	var buf bytes.Buffer
	if err := h.WritePprof(&buf, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Sample) != 3 || p.SampleType[1].Type != "inuse_space" {
		t.Errorf("pprof samples %d, types %v", len(p.Sample), p.SampleType)
	}
}

func TestHeapProfileMalformed(t *testing.T) {
	cases := []struct{ name, doc, want string }{
		{"not json", `[`, "not a V8 sampling heap profile"},
		{"no head", `{"samples":[]}`, "no head"},
		{"null child", `{"head":{"children":[null]}}`, "null node"},
		{"negative", `{"head":{"selfSize":-1}}`, "negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseHeapProfile([]byte(c.doc))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func FuzzHeapProfile(f *testing.F) {
	f.Add([]byte(heapDoc))
	f.Fuzz(func(t *testing.T, doc []byte) {
		h, err := ParseHeapProfile(doc)
		if err != nil {
			return
		}
		s := h.Summarize(3)
		if s.TotalBytes < 0 || len(s.Sites) > 3 {
			t.Fatalf("odd summary %+v", s)
		}
		var buf bytes.Buffer
		if err := h.WritePprof(&buf, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
	})
}
