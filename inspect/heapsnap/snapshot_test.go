package heapsnap

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// small.heapsnapshot: root(0) -> Foo(1) -> Bar(2) -> Foo(5); root -> Foo(3); Foo(1) and
// Foo(3) -> Baz(4) (so root dominates Baz); root -weak-> Weak(6), unreachable by strong edges.
func TestSummarizeSmallSnapshot(t *testing.T) {
	f, err := os.Open("testdata/small.heapsnapshot")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := SummarizeSnapshot(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Nodes != 7 || s.Edges != 8 || s.Reachable != 6 || s.TotalBytes != 105 {
		t.Errorf("nodes/edges/reachable/total = %d/%d/%d/%d, want 7/8/6/105", s.Nodes, s.Edges, s.Reachable, s.TotalBytes)
	}
	want := []SnapshotClass{
		{Name: "Foo", Count: 3, SelfBytes: 45, RetainedBytes: 65}, // 1 (35) + 3 (30); 5 is inside 1
		{Name: "Baz", Count: 1, SelfBytes: 40, RetainedBytes: 40},
		{Name: "Bar", Count: 1, SelfBytes: 20, RetainedBytes: 25},
	}
	if len(s.Classes) != len(want) {
		t.Fatalf("classes = %+v, want %+v", s.Classes, want)
	}
	for i := range want {
		if s.Classes[i] != want[i] {
			t.Errorf("class %d = %+v, want %+v", i, s.Classes[i], want[i])
		}
	}
}

// Every prefix of a valid snapshot is an error (truncated or not a snapshot), never a
// panic and never a summary.
func TestSnapshotPrefixesAreErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/small.heapsnapshot")
	if err != nil {
		t.Fatal(err)
	}
	end := bytes.LastIndexByte(data, '}')
	for i := 0; i < end; i++ {
		_, err := SummarizeSnapshot(bytes.NewReader(data[:i]), 0)
		if err == nil {
			t.Fatalf("prefix of %d bytes: no error", i)
		}
		if !errors.Is(err, ErrTruncatedSnapshot) && !errors.Is(err, ErrNotHeapSnapshot) {
			t.Fatalf("prefix of %d bytes: %v is neither truncated nor not-a-snapshot", i, err)
		}
		if i > 200 && !errors.Is(err, ErrTruncatedSnapshot) {
			t.Errorf("prefix of %d bytes: %v, want a truncation error", i, err)
		}
	}
}

func TestSnapshotMalformed(t *testing.T) {
	good, err := os.ReadFile("testdata/small.heapsnapshot")
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) string {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("fixture lacks %q", old)
		}
		return strings.Replace(string(good), old, new, 1)
	}
	cases := []struct {
		name, doc, want string
	}{
		{"empty", "", "empty"},
		{"array", "[1,2]", "JSON object"},
		{"report", `{"header":{"reportVersion":3}}`, `not "snapshot"`},
		{"no nodes", `{"snapshot":` + string(good[12:bytes.Index(good, []byte(`"nodes"`))-2]) + `}`, `no "nodes"`},
		{"edge into a field", replace(`,1,6,21`, `,1,6,22`), "not the start"},
		{"edge past the end", replace(`,1,6,21`, `,1,6,49`), "not the start"},
		{"too few edges", replace(`,2,10,28]`, `]`), "add up to"},
		{"node type out of range", replace(`"nodes":[9,`, `"nodes":[99,`), "type 99"},
		{"name past the strings", replace(`,3,4,13,7`, `,3,40,13,7`), "there are 11 strings"},
		{"negative", replace(`,3,1,11,5`, `,3,1,11,-5`), "non-negative integer"},
		{"float", replace(`,3,1,11,5`, `,3,1,11,5.5`), "expected ','"},
		{"fields not a multiple", replace(`,3,4,13,7,0,0,0]`, `,3,4,13,7,0,0]`), "multiple"},
		{"no type list", replace(`"node_types":[[`, `"node_types":[["x"],[`), "type 9"},
		{"meta not an object", `{"snapshot":[1],"nodes":[]}`, "bad \"snapshot\""},
		{"bad escape", replace(`"Bar"`, `"B\qr"`), "bad escape"},
		{"huge number", replace(`,3,1,11,5`, `,3,1,11,99999999999999999999999`), "too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := SummarizeSnapshot(strings.NewReader(c.doc), 0)
			if err == nil {
				t.Fatalf("no error; summary %+v", s)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if !errors.Is(err, ErrNotHeapSnapshot) && !errors.Is(err, ErrTruncatedSnapshot) {
				t.Errorf("error %q wraps neither sentinel", err)
			}
		})
	}
}

func TestSnapshotStringEscapes(t *testing.T) {
	data, err := os.ReadFile("testdata/small.heapsnapshot")
	if err != nil {
		t.Fatal(err)
	}
	// Node 6 (unreachable) names string 4; make a reachable node name the escaped string.
	doc := strings.Replace(string(data), `,3,1,11,5`, `,3,10,11,5`, 1)
	s, err := SummarizeSnapshot(strings.NewReader(doc), 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range s.Classes {
		if c.Name == "z\"\\😀" {
			found = true
		}
	}
	if !found {
		t.Errorf("no class decoded from the escaped string: %+v", s.Classes)
	}
}

// A synthetic snapshot's known counts come back exactly.
func TestSyntheticSnapshot(t *testing.T) {
	var buf bytes.Buffer
	want, err := WriteSyntheticSnapshot(&buf, 20000, 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := SummarizeSnapshot(&buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]SnapshotClass{}
	for _, c := range s.Classes {
		got[c.Name] = c
	}
	for name, count := range want {
		if got[name].Count != count {
			t.Errorf("%s: count %d, want %d", name, got[name].Count, count)
		}
	}
	if s.Classes[0].Name != "Holder" {
		t.Errorf("top class %q, want Holder (it retains every Item)", s.Classes[0].Name)
	}
}

func FuzzSummarizeSnapshot(f *testing.F) {
	data, err := os.ReadFile("testdata/small.heapsnapshot")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"snapshot":{"meta":{"node_fields":["type","name","self_size","edge_count"],"node_types":[["a","object"]],"edge_fields":["type","to_node"],"edge_types":[["weak","shortcut"]]}},"nodes":[1,0,5,1,1,0,3,0],"edges":[1,4],"strings":["x"]}`))
	f.Add([]byte(`{"snapshot":{}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		s, err := SummarizeSnapshot(bytes.NewReader(doc), 10)
		if err == nil && s.Reachable < 1 {
			t.Fatalf("a summary without the root: %+v", s)
		}
	})
}
