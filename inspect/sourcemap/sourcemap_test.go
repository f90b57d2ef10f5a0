package sourcemap

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
)

func TestDecodeVLQ(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		bad  bool
	}{
		{in: "AAAA", want: []int{0, 0, 0, 0}},
		{in: "AACA", want: []int{0, 0, 1, 0}},
		{in: "D", want: []int{-1}},
		{in: "gB", want: []int{16}},
		{in: "2H", want: []int{123}},
		{in: "+/////D", want: []int{2147483647}},
		{in: "/////D", want: []int{-67108863}},
		{in: "g", bad: true},        // ends inside a number
		{in: "A*", bad: true},       // not base64
		{in: "gggggggA", bad: true}, // longer than 32 bits
	} {
		got, err := decodeVLQ(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("decodeVLQ(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("decodeVLQ(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("decodeVLQ(%q) = %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}

func TestParseSourceMapAndLookup(t *testing.T) {
	// Line 1: col 0 -> a.ts 1:0; col 10 -> a.ts 3:4 name "run". Line 2 empty. Line 3:
	// col 2 -> b.ts 0:0 (source index +1, line -3 → 0).
	m, err := Parse([]byte(`{"version":3,"sourceRoot":"src","sources":["a.ts","b.ts"],"names":["run"],"mappings":"AAAA,UAEIA;;ECFJ"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line, col  int
		src        string
		oline, ocl int
		name       string
		ok         bool
	}{
		{0, 0, "src/a.ts", 0, 0, "", true},
		{0, 9, "src/a.ts", 0, 0, "", true},
		{0, 10, "src/a.ts", 2, 4, "run", true},
		{0, 500, "src/a.ts", 2, 4, "run", true},
		{1, 0, "", 0, 0, "", false},
		{2, 1, "", 0, 0, "", false},
		{2, 2, "src/b.ts", 0, 0, "", true},
		{3, 0, "", 0, 0, "", false},
		{-1, 0, "", 0, 0, "", false},
	} {
		src, l, c, name, ok := m.Lookup(tc.line, tc.col)
		if ok != tc.ok || src != tc.src || l != tc.oline || c != tc.ocl || name != tc.name {
			t.Errorf("Lookup(%d, %d) = %q %d:%d %q %v; want %q %d:%d %q %v", tc.line, tc.col, src, l, c, name, ok, tc.src, tc.oline, tc.ocl, tc.name, tc.ok)
		}
	}
}

func TestParseSourceMapRejectsMalformed(t *testing.T) {
	for _, in := range []string{
		``,
		`not json`,
		`{"version":2,"sources":[],"mappings":""}`,
		`{"version":3,"sources":["a"]}`,
		`{"version":3,"sources":["a"],"mappings":"AAAA,A*"}`,
		`{"version":3,"sources":["a"],"mappings":"ACAA"}`,   // source index 1 of 1
		`{"version":3,"sources":["a"],"mappings":"AAAAAA"}`, // 6 fields
		`{"version":3,"sources":["a"],"mappings":"AADA"}`,   // line -1
		`{"version":3,"sections":[{"offset":{"line":0,"column":0},"map":{}}]}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q) accepted a malformed map", in)
		}
	}
	if _, err := Parse([]byte(")]}'\n" + `{"version":3,"sources":["a"],"mappings":"AAAA"}`)); err != nil {
		t.Errorf("the XSSI prefix is allowed: %v", err)
	}
}

func TestSourceMapLocation(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString([]byte(`{"version":3}`))
	for _, tc := range []struct {
		script, mapURL, file, inline string
		bad                          bool
	}{
		{script: "file:///app/dist/x.js", mapURL: "x.js.map", file: "/app/dist/x.js.map"},
		{script: "/app/dist/x.js", mapURL: "../maps/x.js.map", file: "/app/maps/x.js.map"},
		{script: "file:///app/x.js", mapURL: "/abs/x.map", file: "/abs/x.map"},
		{script: "file:///app/x.js", mapURL: "file:///other/x.map", file: "/other/x.map"},
		{script: "file:///app/x.js", mapURL: "data:application/json;base64," + b64, inline: `{"version":3}`},
		{script: "file:///app/x.js", mapURL: "data:application/json," + `%7B%7D`, inline: `{}`},
		{script: "file:///app/x.js", mapURL: "data:application/json;base64,!!!", bad: true},
		{script: "file:///app/x.js", mapURL: "data:nocomma", bad: true},
		{script: "file:///app/x.js", mapURL: "https://cdn.example.com/x.map", bad: true},
		{script: "node:internal/x", mapURL: "x.map", bad: true},
	} {
		inline, file, err := Location(tc.script, tc.mapURL)
		if tc.bad != (err != nil) || file != tc.file || string(inline) != tc.inline {
			t.Errorf("sourceMapLocation(%q, %q) = %q, %q, %v", tc.script, tc.mapURL, inline, file, err)
		}
	}
}

func TestOriginalSource(t *testing.T) {
	if got := OriginalSource("/app/dist/x.js.map", "file:///app/dist/x.js", "../src/x.ts"); got != "/app/src/x.ts" {
		t.Errorf("relative to the map file: %q", got)
	}
	if got := OriginalSource("", "file:///app/dist/x.js", "x.ts"); got != "/app/dist/x.ts" {
		t.Errorf("inline map, relative to the script: %q", got)
	}
	if got := OriginalSource("/m/x.map", "", "webpack://app/src/x.ts"); got != "webpack://app/src/x.ts" {
		t.Errorf("a URL source is kept: %q", got)
	}
}

func FuzzParseSourceMap(f *testing.F) {
	f.Add([]byte(`{"version":3,"sources":["a.ts","b.ts"],"names":["run"],"mappings":"AAAA,UAEIA;;ECFJ"}`))
	f.Add([]byte(`{"version":3,"sources":[null],"mappings":";;;AAAA"}`))
	f.Add([]byte(`)]}'{"version":3,"sources":["a"],"mappings":"+/////D"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		for line := -1; line < 4; line++ {
			for _, col := range []int{-1, 0, 1, 100} {
				src, l, c, _, ok := m.Lookup(line, col)
				if ok && (l < 0 || c < 0 || !slices.Contains(m.Sources, src)) {
					t.Fatalf("Lookup(%d, %d) = %q %d:%d", line, col, src, l, c)
				}
			}
		}
	})
}

func FuzzDecodeVLQ(f *testing.F) {
	for _, s := range []string{"AAAA", "gB", "+/////D", "g", "A*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vals, err := decodeVLQ(s)
		if err == nil && len(s) > 0 && len(vals) == 0 {
			t.Fatalf("decodeVLQ(%q) decoded nothing without an error", s)
		}
		if err == nil && strings.ContainsAny(s, "*!,;") {
			t.Fatalf("decodeVLQ(%q) accepted a non-base64 digit", s)
		}
	})
}
