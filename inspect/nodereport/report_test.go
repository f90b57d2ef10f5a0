package nodereport

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func u64(v uint64) *uint64 { return &v }

func eqU64(a, b *uint64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func show(p *uint64) string {
	if p == nil {
		return "nil"
	}
	b, _ := json.Marshal(*p)
	return string(b)
}

func warnings(r *Report) string { return strings.Join(r.Warnings, " | ") }

func handleOf(r *Report, typ string, n int) *Handle {
	for i := range r.Handles {
		if r.Handles[i].Type == typ {
			if n == 0 {
				return &r.Handles[i]
			}
			n--
		}
	}
	return nil
}

// The fixtures: v4.json, v4-oom.json and v4-crash.json were written by Node.js v20.20.2
// (trimmed); v1, v2, v3, v5 and unknown-v9 were derived from v4.json by applying the
// differences between versions. (v4-crash.json and v4-oom.json also serve cmd's tests.)
func TestParseFixtures(t *testing.T) {
	for _, c := range []struct {
		file           string
		version        int
		node           string
		code           string
		used, external *uint64
		rss            uint64
		soft, hard     uint64
		listen         string   // Local of the listening tcp handle
		warn           []string // each must be in some warning; none at all when empty
	}{
		{"v1.json", 1, "v12.22.12", "", u64(4119168), nil, 46338048, 1024, 4096, "localhost:38501",
			[]string{"report version 1 has no current RSS", "maxRss"}},
		{"v2.json", 2, "v16.20.2", "E_GARBAGE", u64(4119168), nil, 46338048, 20000, 20000, "localhost:38501",
			[]string{"report version 2 has no current RSS"}},
		{"v3.json", 3, "v18.19.0", "E_GARBAGE", u64(4119168), u64(1546824), 46338048, 20000, 20000, "localhost:38501", nil},
		{"v4.json", 4, "v20.20.2", "E_GARBAGE", u64(4119168), u64(1546824), 46338048, 20000, 20000, "127.0.0.1:38501", nil},
		{"v5.json", 5, "v24.11.1", "E_GARBAGE", u64(4119168), u64(1546824), 46338048, 1024, 524288, "127.0.0.1:38501", nil},
		{"unknown-v9.json", 9, "v31.0.0", "E_GARBAGE", nil, u64(1546824), 46338048, 1024, 524288, "127.0.0.1:38501",
			[]string{"report version 9 is newer than this tool knows (1-5): read what it could", `javascriptHeap has no "usedMemory"`}},
	} {
		t.Run(c.file, func(t *testing.T) {
			r, err := Parse(fixture(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if r.Version != c.version || r.NodeVersion != c.node || r.PID != 31834 || r.Event != "Exception" || r.Trigger != "Exception" {
				t.Errorf("header: version %d node %q pid %d event %q trigger %q", r.Version, r.NodeVersion, r.PID, r.Event, r.Trigger)
			}
			if r.DumpTime != "2026-11-22T19:01:49Z" || len(r.Cmdline) == 0 || r.Cmdline[len(r.Cmdline)-1] != "/srv/app/server.js" {
				t.Errorf("dump time %q command line %q", r.DumpTime, r.Cmdline)
			}
			if r.Error == nil {
				t.Fatal("no error")
			}
			if r.Error.Message != "Error: payment service returned garbage" || r.Error.Code != c.code ||
				len(r.Error.Stack) != 2 || !strings.Contains(r.Error.Stack[0], "flushOrders") {
				t.Errorf("error %+v", *r.Error)
			}
			h := r.Heap
			if !eqU64(h.UsedBytes, c.used) || !eqU64(h.TotalBytes, u64(4694016)) || !eqU64(h.LimitBytes, u64(4345298944)) ||
				!eqU64(h.AvailableBytes, u64(4342113624)) || !eqU64(h.ExternalBytes, c.external) || h.ArrayBuffersBytes != nil {
				t.Errorf("heap used %s total %s limit %s available %s external %s", show(h.UsedBytes), show(h.TotalBytes),
					show(h.LimitBytes), show(h.AvailableBytes), show(h.ExternalBytes))
			}
			if !eqU64(r.RSSBytes, &c.rss) {
				t.Errorf("rss %s, want %d", show(r.RSSBytes), c.rss)
			}
			if !r.OpenFilesKnown || !eqU64(r.OpenFilesSoft, &c.soft) || !eqU64(r.OpenFilesHard, &c.hard) {
				t.Errorf("open files known %v soft %s hard %s", r.OpenFilesKnown, show(r.OpenFilesSoft), show(r.OpenFilesHard))
			}
			if tcp := handleOf(r, "tcp", 0); tcp == nil || tcp.Local != c.listen || tcp.Remote != "" || tcp.FD == nil || *tcp.FD != 23 {
				t.Errorf("listening tcp handle %+v", tcp)
			}
			w := warnings(r)
			for _, want := range c.warn {
				if !strings.Contains(w, want) {
					t.Errorf("warnings %q lack %q", w, want)
				}
			}
			if len(c.warn) == 0 && len(r.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", w)
			}
		})
	}
}

func TestParseHandles(t *testing.T) {
	r, err := Parse(fixture(t, "v4.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Handles) != 18 {
		t.Fatalf("%d handles, want 18", len(r.Handles))
	}
	fd := func(n int) *int { return &n }
	for _, c := range []struct {
		typ                string
		nth                int
		active, referenced bool
		fd                 *int
		local, remote      string
		detail             string
	}{
		{"async", 0, true, false, nil, "", "", ""},
		{"timer", 0, false, true, nil, "", "", "repeat 0 ms, expired 2 ms ago"},
		{"signal", 0, true, false, nil, "", "", "signum 15 (SIGTERM)"},
		{"pipe", 0, false, true, fd(19), "", "", ""},
		{"pipe", 1, true, true, fd(21), "/srv/app/app.sock", "", ""},
		{"process", 0, true, true, nil, "", "", "pid 31846"},
		{"fs_event", 0, true, true, nil, "", "", "/srv/app"},
		{"udp", 0, true, true, fd(22), "127.0.0.1:60210", "", ""},
		{"tcp", 1, true, true, fd(24), "127.0.0.1:54248", "127.0.0.1:38501", ""},
		{"tcp", 2, true, true, fd(25), "127.0.0.1:38501", "127.0.0.1:54248", ""},
		{"loop", 0, true, false, nil, "", "", "idle 0.051709 s"},
	} {
		h := handleOf(r, c.typ, c.nth)
		if h == nil {
			t.Errorf("no %s #%d", c.typ, c.nth)
			continue
		}
		if h.Active != c.active || h.Referenced != c.referenced || (h.FD == nil) != (c.fd == nil) || (h.FD != nil && *h.FD != *c.fd) ||
			h.Local != c.local || h.Remote != c.remote || h.Detail != c.detail {
			t.Errorf("%s #%d: %+v (fd %v)", c.typ, c.nth, *h, h.FD)
		}
	}
}

func TestParseFatalError(t *testing.T) {
	r, err := Parse(fixture(t, "v4-oom.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Trigger != "OOMError" || r.Error == nil || r.Error.Message != "Allocation failed - JavaScript heap out of memory" ||
		r.Error.Code != "OOMError" || r.Error.Stack != nil {
		t.Fatalf("trigger %q error %+v", r.Trigger, r.Error)
	}
	if r.PID != 26626 || !eqU64(r.Heap.UsedBytes, u64(34506256)) || !eqU64(r.Heap.LimitBytes, u64(75497472)) || !eqU64(r.RSSBytes, u64(97878016)) {
		t.Errorf("heap %s of %s, rss %s", show(r.Heap.UsedBytes), show(r.Heap.LimitBytes), show(r.RSSBytes))
	}
	if len(r.Warnings) > 0 {
		t.Errorf("warnings %q", warnings(r))
	}
}

// mini is a small report; its sections can be replaced by name.
func mini(t *testing.T, sections map[string]string) []byte {
	t.Helper()
	base := map[string]string{
		"header":          `{"reportVersion": 4, "event": "Exception", "trigger": "Exception", "dumpEventTime": "2026-01-02T03:04:05Z", "processId": 42, "commandLine": ["node", "app.js"], "nodejsVersion": "v20.20.2", "platform": "linux"}`,
		"javascriptStack": `{"message": "Error: boom", "stack": ["at main (/srv/app/app.js:1:7)"], "errorProperties": {}}`,
		"javascriptHeap":  `{"totalMemory": 4694016, "usedMemory": 4027464, "memoryLimit": 4345298944, "availableMemory": 4342205328, "heapSpaces": {"new_space": {"used": 1000}, "old_space": {"used": 3000000}, "code_space": {"used": 20000}, "large_object_space": {"used": 7000}}}`,
		"resourceUsage":   `{"rss": 44908544, "maxRss": 44908544}`,
		"libuv":           `[]`,
		"userLimits":      `{"open_files": {"soft": 1024, "hard": 4096}}`,
	}
	var b strings.Builder
	b.WriteString("{")
	first := true
	for _, k := range []string{"header", "javascriptStack", "javascriptHeap", "resourceUsage", "libuv", "userLimits"} {
		v, ok := sections[k]
		if !ok {
			v = base[k]
		}
		if v == "" { // "" leaves the section out
			continue
		}
		if !first {
			b.WriteString(",")
		}
		first = false
		b.WriteString(`"` + k + `":` + v)
	}
	for k, v := range sections {
		if _, known := base[k]; !known {
			b.WriteString(`,"` + k + `":` + v)
		}
	}
	b.WriteString("}")
	return []byte(b.String())
}

func TestParseErrorOrNot(t *testing.T) {
	for _, c := range []struct {
		name, trigger, stack string
		want                 *Error
	}{
		{"uncaught", "Exception", `{"message": "TypeError: x is not a function", "stack": ["at a (/a.js:1:1)", "at b (/a.js:2:1)"], "errorProperties": {"code": "ERR_X"}}`,
			&Error{Message: "TypeError: x is not a function", Stack: []string{"at a (/a.js:1:1)", "at b (/a.js:2:1)"}, Code: "ERR_X"}},
		{"thrown string", "Exception", `{"message": "boom", "errorProperties": {}}`, &Error{Message: "boom"}},
		{"writeReport(err)", "API", `{"message": "Error: ENOENT: no such file", "stack": ["at x"], "errorProperties": {"errno": "-2", "code": "ENOENT"}}`,
			&Error{Message: "Error: ENOENT: no such file", Stack: []string{"at x"}, Code: "ENOENT"}},
		{"numeric code", "API", `{"message": "Error: x", "errorProperties": {"code": 17}}`, &Error{Message: "Error: x", Code: "17"}},
		{"getReport()", "GetReport", `{"message": "Error [ERR_SYNTHETIC]: JavaScript Callstack", "stack": ["at Object.getReport (node:internal/process/report:36:13)"], "errorProperties": {"code": "ERR_SYNTHETIC"}}`, nil},
		{"getReport() of an old version", "GetReport", `{"message": "Error [ERR_SYNTHETIC]: JavaScript Callstack", "stack": ["at x"]}`, nil},
		{"signal", "Signal", `{"message": "", "errorProperties": {}}`, nil},
		{"current stack", "Signal", `{"message": "Signal", "stack": ["at x"], "errorProperties": {}}`, nil},
		{"no stack", "Exception", `{"message": "No stack.", "stack": ["Unavailable."], "errorProperties": {}}`, nil},
		{"fatal error", "FatalError", `{"message": "No stack.", "stack": ["Unavailable."], "errorProperties": {}}`, &Error{Message: "the event", Code: "FatalError"}},
		{"out of memory", "OOMError", `{"message": "No stack.", "stack": ["Unavailable."], "errorProperties": {}}`, &Error{Message: "the event", Code: "OOMError"}},
		{"oldest fatal error", "OnFatalError", `{"message": "No stack.", "stack": ["Unavailable."]}`, &Error{Message: "the event", Code: "FatalError"}},
		{"not an object", "Exception", `"Error: boom"`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			header := `{"reportVersion": 4, "event": "the event", "trigger": "` + c.trigger + `", "processId": 1, "nodejsVersion": "v20.20.2", "dumpEventTime": "x", "commandLine": []}`
			r, err := Parse(mini(t, map[string]string{"header": header, "javascriptStack": c.stack}))
			if err != nil {
				t.Fatal(err)
			}
			if (r.Error == nil) != (c.want == nil) {
				t.Fatalf("error %+v, want %+v", r.Error, c.want)
			}
			if c.want != nil && (r.Error.Message != c.want.Message || r.Error.Code != c.want.Code ||
				strings.Join(r.Error.Stack, "\n") != strings.Join(c.want.Stack, "\n")) {
				t.Fatalf("error %+v, want %+v", *r.Error, *c.want)
			}
		})
	}
}

func TestParseCrashFixture(t *testing.T) {
	r, err := Parse(fixture(t, "v4-crash.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 4 || r.Error == nil || r.Error.Code != "E_GARBAGE" || !eqU64(r.RSSBytes, u64(46112768)) || !r.OpenFilesKnown || len(r.Warnings) > 0 {
		t.Fatalf("version %d error %+v rss %s open files %v warnings %q", r.Version, r.Error, show(r.RSSBytes), r.OpenFilesKnown, warnings(r))
	}
	if h := handleOf(r, "tcp", 1); h == nil || h.Local != "127.0.0.1:49830" || h.Remote != "127.0.0.1:41085" {
		t.Errorf("client socket %+v", h)
	}
}

// Before the "OOMError" trigger, running out of V8 heap was a "FatalError".
func TestParseOldOutOfMemory(t *testing.T) {
	header := `{"reportVersion": 2, "event": "Allocation failed - JavaScript heap out of memory", "trigger": "FatalError", "processId": 9, "dumpEventTime": "x", "commandLine": [], "nodejsVersion": "v14.21.3"}`
	r, err := Parse(mini(t, map[string]string{"header": header, "javascriptStack": `{"message": "No stack.", "stack": ["Unavailable."]}`, "resourceUsage": `{"maxRss": 9}`}))
	if err != nil {
		t.Fatal(err)
	}
	if r.Error == nil || r.Error.Code != "OOMError" || r.Error.Message != "Allocation failed - JavaScript heap out of memory" {
		t.Fatalf("error %+v", r.Error)
	}
}

func TestParseRejects(t *testing.T) {
	truncated := fixture(t, "truncated.json")
	for _, c := range []struct {
		name string
		in   []byte
		want error
		says string
	}{
		{"truncated", truncated, ErrMalformed, "report JSON truncated at byte 6166: unexpected end of JSON input"},
		{"truncated header", []byte(`{"header": {"reportVersion": 4, "nodejsVer`), ErrMalformed, "truncated at byte"},
		{"not JSON", []byte("EMFILE: too many open files\n"), ErrMalformed, "invalid JSON"},
		{"garbage after", []byte(`{"header": {"reportVersion": 4}} x`), ErrMalformed, "invalid JSON"},
		{"empty", nil, ErrMalformed, "empty"},
		{"blank", []byte(" \n\t"), ErrMalformed, "empty"},
		{"array", []byte("[1,2,3]"), ErrNotReport, "the JSON is an array, not an object"},
		{"string", []byte(`"header"`), ErrNotReport, "a string"},
		{"null", []byte("null"), ErrNotReport, `no "header" object`},
		{"other object", fixture(t, "not-a-report.json"), ErrNotReport, `not a Node.js diagnostic report: no "header" object`},
		{"null header", []byte(`{"header": null}`), ErrNotReport, `no "header" object`},
		{"header not an object", []byte(`{"header": 5}`), ErrNotReport, `"header" is a number`},
		{"header of something else", []byte(`{"header": {"name": "x", "version": 3}}`), ErrNotReport, "neither"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Parse(c.in)
			if err == nil {
				t.Fatalf("no error, report %+v", r)
			}
			if r != nil || !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("err %q, want %v saying %q", err, c.want, c.says)
			}
			other := ErrNotReport
			if c.want == ErrNotReport {
				other = ErrMalformed
			}
			if errors.Is(err, other) {
				t.Errorf("err %q is also %v", err, other)
			}
		})
	}
	_, err := Parse(truncated)
	var syn *json.SyntaxError
	if !errors.As(err, &syn) || syn.Offset != int64(len(truncated)) {
		t.Errorf("truncated: %v does not carry the syntax error's offset", err)
	}
}

func TestParseNumbers(t *testing.T) {
	heap := `{"usedMemory": "4027464", "totalMemory": 18446744073709551615, "memoryLimit": 9007199254740993,
		"availableMemory": -5, "externalMemory": "lots", "heapSpaces": {"old_space": {"used": "12"}}}`
	r, err := Parse(mini(t, map[string]string{
		"javascriptHeap": heap,
		"resourceUsage":  `{"rss": "44908544"}`,
		"userLimits":     `{"open_files": {"soft": "1024", "hard": "unlimited"}}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Heap
	if !eqU64(h.UsedBytes, u64(4027464)) || !eqU64(h.TotalBytes, u64(18446744073709551615)) ||
		!eqU64(h.LimitBytes, u64(9007199254740993)) || h.AvailableBytes != nil || h.ExternalBytes != nil {
		t.Errorf("heap used %s total %s limit %s available %s external %s", show(h.UsedBytes), show(h.TotalBytes),
			show(h.LimitBytes), show(h.AvailableBytes), show(h.ExternalBytes))
	}
	if !eqU64(r.RSSBytes, u64(44908544)) {
		t.Errorf("rss %s", show(r.RSSBytes))
	}
	if !r.OpenFilesKnown || !eqU64(r.OpenFilesSoft, u64(1024)) || r.OpenFilesHard != nil {
		t.Errorf("open files %v %s %s", r.OpenFilesKnown, show(r.OpenFilesSoft), show(r.OpenFilesHard))
	}
	w := warnings(r)
	for _, want := range []string{"javascriptHeap.availableMemory is -5, a negative size", `javascriptHeap.externalMemory is "lots", not a size`} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings %q lack %q", w, want)
		}
	}
	if len(r.Warnings) != 2 {
		t.Errorf("warnings %q", w)
	}

	for _, c := range []struct{ in, want string }{
		{`1.5e3`, "1500"}, {`"  77 "`, "77"}, {`0`, "0"}, {`18446744073709551616`, "nil"}, {`1e400`, "nil"},
		{`-0.5`, "nil"}, {`"0x10"`, "nil"}, {`true`, "nil"}, {`null`, "nil"}, {`{}`, "nil"}, {`"NaN"`, "nil"}, {`"-Inf"`, "nil"},
	} {
		r, err := Parse(mini(t, map[string]string{"resourceUsage": `{"rss": ` + c.in + `}`}))
		if err != nil {
			t.Fatal(err)
		}
		if got := show(r.RSSBytes); got != c.want {
			t.Errorf("rss %s read as %s, want %s", c.in, got, c.want)
		}
	}
}

func TestParseMissingAndOdd(t *testing.T) {
	for _, c := range []struct {
		name     string
		sections map[string]string
		check    func(*Report) bool
		warn     string
	}{
		{"no heap", map[string]string{"javascriptHeap": ""},
			func(r *Report) bool { return r.Heap == Heap{} }, `no "javascriptHeap" section`},
		{"heap not an object", map[string]string{"javascriptHeap": `[1]`},
			func(r *Report) bool { return r.Heap == Heap{} }, "javascriptHeap is a list"},
		{"heap spaces", map[string]string{},
			func(r *Report) bool {
				return len(r.HeapSpacesUsed) == 4 && r.HeapSpacesUsed["old_space"] == 3000000 && r.HeapSpacesUsed["new_space"] == 1000
			}, ""},
		{"no heap spaces", map[string]string{"javascriptHeap": `{"totalMemory": 1, "usedMemory": 1, "memoryLimit": 2, "availableMemory": 1}`},
			func(r *Report) bool { return r.HeapSpacesUsed == nil && eqU64(r.Heap.UsedBytes, u64(1)) }, `javascriptHeap has no "heapSpaces"`},
		{"heap spaces not an object", map[string]string{"javascriptHeap": `{"totalMemory": 1, "usedMemory": 1, "memoryLimit": 2, "availableMemory": 1, "heapSpaces": [1]}`},
			func(r *Report) bool { return r.HeapSpacesUsed == nil }, "heapSpaces is a list, not an object"},
		{"heap space without used", map[string]string{"javascriptHeap": `{"totalMemory": 1, "usedMemory": 1, "memoryLimit": 2, "availableMemory": 1, "heapSpaces": {"old_space": {"capacity": 5}, "new_space": 7, "code_space": {"used": -1}, "lo": {"used": 3}}}`},
			func(r *Report) bool { return r.HeapSpacesUsed == nil }, "3 of 4 spaces have no readable"},
		{"NODE_OPTIONS", map[string]string{"environmentVariables": `{"PATH": "/bin", "NODE_OPTIONS": "--max-old-space-size=300"}`},
			func(r *Report) bool { return r.NodeOptions != nil && *r.NodeOptions == "--max-old-space-size=300" }, ""},
		{"NODE_OPTIONS not a string", map[string]string{"environmentVariables": `{"NODE_OPTIONS": 5}`},
			func(r *Report) bool { return r.NodeOptions == nil }, ""},
		{"environment not an object", map[string]string{"environmentVariables": `"x"`},
			func(r *Report) bool { return r.NodeOptions == nil }, ""},
		{"no stack", map[string]string{"javascriptStack": ""},
			func(r *Report) bool { return r.Error == nil }, `no "javascriptStack" section`},
		{"no resource usage", map[string]string{"resourceUsage": ""},
			func(r *Report) bool { return r.RSSBytes == nil }, `no "resourceUsage" section`},
		{"rss missing in version 4", map[string]string{"resourceUsage": `{"maxRss": 5000}`},
			func(r *Report) bool { return eqU64(r.RSSBytes, u64(5000)) }, `resourceUsage has no "rss"`},
		{"no rss at all", map[string]string{"resourceUsage": `{"userCpuSeconds": 1}`},
			func(r *Report) bool { return r.RSSBytes == nil }, `neither "rss" nor "maxRss"`},
		{"bad rss, good maxRss", map[string]string{"resourceUsage": `{"rss": "x", "maxRss": 7}`},
			func(r *Report) bool { return eqU64(r.RSSBytes, u64(7)) }, "RSS is the peak"},
		{"no user limits", map[string]string{"userLimits": ""},
			func(r *Report) bool { return !r.OpenFilesKnown && r.OpenFilesSoft == nil }, `no "userLimits" section`},
		{"no open_files row", map[string]string{"userLimits": `{"stack_size_bytes": {"soft": 1, "hard": 2}}`},
			func(r *Report) bool { return !r.OpenFilesKnown }, `no "open_files" row`},
		{"open_files unreadable", map[string]string{"userLimits": `{"open_files": {"soft": "", "hard": 4096}}`},
			func(r *Report) bool { return !r.OpenFilesKnown && r.OpenFilesHard == nil }, "not two limits"},
		{"open_files not a row", map[string]string{"userLimits": `{"open_files": 1024}`},
			func(r *Report) bool { return !r.OpenFilesKnown }, "not {soft, hard}"},
		{"unlimited open files", map[string]string{"userLimits": `{"open_files": {"soft": "unlimited", "hard": "unlimited"}}`},
			func(r *Report) bool { return r.OpenFilesKnown && r.OpenFilesSoft == nil && r.OpenFilesHard == nil }, ""},
		{"no libuv", map[string]string{"libuv": ""},
			func(r *Report) bool { return r.Handles == nil }, `no "libuv" section`},
		{"libuv not a list", map[string]string{"libuv": `"tcp"`},
			func(r *Report) bool { return r.Handles == nil }, "libuv is a string"},
		{"libuv entries not objects", map[string]string{"libuv": `[1, {"type": "tcp"}, "x"]`},
			func(r *Report) bool { return len(r.Handles) == 1 && r.Handles[0].Type == "tcp" }, "2 of 3 entries are not objects"},
		{"libuv as {handles}", map[string]string{"libuv": `{"loop_idle_time": 1.5, "handles": [{"type": "timer", "is_active": true, "is_referenced": true, "repeat": 1000, "firesInMsFromNow": 250, "expired": false}]}`},
			func(r *Report) bool {
				return len(r.Handles) == 1 && r.Handles[0].Detail == "repeat 1000 ms, fires in 250 ms" && r.Handles[0].Active && r.Handles[0].Referenced
			}, ""},
		{"endpoints", map[string]string{"libuv": `[
			{"type": "tcp", "fd": -1, "localEndpoint": {"host": "::", "ip6": "::", "port": 8080}, "remoteEndpoint": {"host": "db.internal", "port": 5432}},
			{"type": "udp", "fd": "x", "localEndpoint": {"port": 53}, "remoteEndpoint": {"host": "fe80::1"}}]`},
			func(r *Report) bool {
				a, b := r.Handles[0], r.Handles[1]
				return a.FD == nil && a.Local == "[::]:8080" && a.Remote == "db.internal:5432" && b.FD == nil && b.Local == ":53" && b.Remote == "[fe80::1]"
			}, "1 entries have an fd that is not a file descriptor"},
		{"endpoint with an escaped key or a nested value", map[string]string{"libuv": `[
			{"type": "tcp", "localEndpoint": {"ho\u0073t": "app.internal", "port": "8080"}, "remoteEndpoint": {"ip4": "10.0.0.9", "port": 443, "extra": {"a": 1}}}]`},
			func(r *Report) bool {
				return r.Handles[0].Local == "app.internal:8080" && r.Handles[0].Remote == "10.0.0.9:443"
			}, ""},
		{"tty and signal without name", map[string]string{"libuv": `[
			{"type": "tty", "is_active": false, "is_referenced": true, "width": 204, "height": 55, "fd": 1, "stdio": "stdout"},
			{"type": "signal", "is_active": true, "is_referenced": false, "signum": 28}]`},
			func(r *Report) bool {
				return r.Handles[0].Detail == "204x55, stdout" && *r.Handles[0].FD == 1 && r.Handles[1].Detail == "signum 28"
			}, ""},
		{"handle without type", map[string]string{"libuv": `[{"is_active": true}]`},
			func(r *Report) bool { return len(r.Handles) == 1 && r.Handles[0].Type == "" }, `1 entries have no "type"`},
		{"header fields of the wrong type", map[string]string{"header": `{"reportVersion": "4", "event": 5, "processId": "-1", "commandLine": ["node", 7, "app.js"], "nodejsVersion": "v20.20.2"}`},
			func(r *Report) bool {
				return r.Version == 4 && r.Event == "" && r.PID == 0 && strings.Join(r.Cmdline, " ") == "node app.js"
			}, "header.event is 5, not a string"},
		{"version not a number", map[string]string{"header": `{"reportVersion": "four", "nodejsVersion": "v20.20.2", "event": "e", "trigger": "t", "processId": 1, "dumpEventTime": "x", "commandLine": []}`},
			func(r *Report) bool { return r.Version == 0 && r.NodeVersion == "v20.20.2" }, `header.reportVersion is "four", not a version number`},
		{"version only", map[string]string{"header": `{"reportVersion": 2}`},
			func(r *Report) bool { return r.Version == 2 && r.NodeVersion == "" }, `header has no "nodejsVersion"`},
		{"unknown sections", map[string]string{"futureSection": `{"x": [1, 2, {"y": null}]}`},
			func(r *Report) bool { return r.Error != nil && r.Version == 4 }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Parse(mini(t, c.sections))
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(r) {
				t.Errorf("report %+v", *r)
			}
			w := warnings(r)
			if c.warn != "" && !strings.Contains(w, c.warn) {
				t.Errorf("warnings %q lack %q", w, c.warn)
			}
			if c.warn == "" && len(r.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", w)
			}
		})
	}
}

// The first reports of Node.js 11 had no reportVersion, "location" for "trigger", numbers
// as strings and libuv handles described in a "details" text.
func TestParseVersionlessReport(t *testing.T) {
	in := `{"header": {"event": "exception", "location": "OnUncaughtException", "filename": "report.json",
		"dumpEventTime": "2019-01-20T10:00:00Z", "processId": "8974", "commandLine": ["node", "app.js"],
		"nodejsVersion": "v11.8.0", "wordSize": "64 bit"},
	  "javascriptStack": {"message": "Error: boom", "stack": ["at main (/srv/app/app.js:2:9)"]},
	  "javascriptHeap": {"totalMemory": "6291456", "totalCommittedMemory": "4554968", "usedMemory": "4137000",
		"availableMemory": "1520478416", "memoryLimit": "1526909922"},
	  "resourceUsage": {"userCpuSeconds": "0.069541", "maxRss": "37163008"},
	  "libuv": [
		{"type": "tcp", "is_active": "1", "is_referenced": "1", "address": "94502372161224",
		 "details": "localhost:8080 (not connected), send buffer size: 16384, recv buffer size: 87380, file descriptor: 12, write queue size: 0, readable, writable"},
		{"type": "timer", "is_active": "0", "is_referenced": "1", "address": "94502372161225", "details": "repeat: 0, timeout expired: 12 ms ago"},
		{"type": "tty", "is_active": "1", "is_referenced": "0", "address": "94502372161226", "details": "width: 80, height: 24, stdout, write queue size: 0, writable"}],
	  "userLimits": {"open_files": {"soft": "1024", "hard": "4096"}}}`
	r, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 0 || r.Trigger != "OnUncaughtException" || r.PID != 8974 || r.Error == nil || r.Error.Message != "Error: boom" {
		t.Errorf("version %d trigger %q pid %d error %+v", r.Version, r.Trigger, r.PID, r.Error)
	}
	if !eqU64(r.Heap.UsedBytes, u64(4137000)) || !eqU64(r.RSSBytes, u64(37163008)) || !eqU64(r.OpenFilesSoft, u64(1024)) {
		t.Errorf("heap %s rss %s open files %s", show(r.Heap.UsedBytes), show(r.RSSBytes), show(r.OpenFilesSoft))
	}
	tcp, timer, tty := r.Handles[0], r.Handles[1], r.Handles[2]
	if !tcp.Active || !tcp.Referenced || tcp.FD == nil || *tcp.FD != 12 || !strings.HasPrefix(tcp.Detail, "localhost:8080") {
		t.Errorf("tcp %+v", tcp)
	}
	if timer.Active || timer.Detail != "repeat: 0, timeout expired: 12 ms ago" || tty.Referenced || tty.FD == nil || *tty.FD != 1 {
		t.Errorf("timer %+v tty %+v", timer, tty)
	}
	if w := warnings(r); !strings.Contains(w, `no "reportVersion"`) || !strings.Contains(w, "no current RSS") {
		t.Errorf("warnings %q", w)
	}
}

// Old macOS reports multiplied a maxRss already in bytes by 1024 (the doc's example has
// maxRss 36624662528 for an rss of 35766272).
func TestParseMacOSMaxRSS(t *testing.T) {
	header := `{"reportVersion": 1, "event": "e", "trigger": "t", "processId": 1, "dumpEventTime": "x", "commandLine": [], "nodejsVersion": "v12.0.0", "platform": "%s"}`
	for _, c := range []struct {
		platform string
		want     uint64
	}{{"darwin", 35766272}, {"linux", 36624662528}} {
		r, err := Parse(mini(t, map[string]string{
			"header":         strings.Replace(header, "%s", c.platform, 1),
			"javascriptHeap": `{"totalMemory": 5660672, "usedMemory": 4816432, "memoryLimit": 4345298944, "availableMemory": 4341379928}`,
			"resourceUsage":  `{"maxRss": 36624662528}`,
		}))
		if err != nil {
			t.Fatal(err)
		}
		if !eqU64(r.RSSBytes, &c.want) {
			t.Errorf("%s: rss %s, want %d (%q)", c.platform, show(r.RSSBytes), c.want, warnings(r))
		}
	}
}

func TestEachField(t *testing.T) {
	for _, c := range []struct {
		in   string
		flat bool
		want string
	}{
		{`{}`, true, ""},
		{` { } `, true, ""},
		{`{"host": "a,b}c", "port": 80}`, true, `"host"=` + `"a,b}c" "port"=80 `},
		{"{\n \"ip6\" :\t\"::1\" ,\r\n\"x\": null, \"y\": -1.5e3, \"z\": true }", true, `"ip6"="::1" "x"=null "y"=-1.5e3 "z"=true `},
		{`{"key": "v\\\"", "n": 1}`, true, `"key"="v\\\"" "n"=1 `},
		{`{"k\"ey": 1}`, false, ""},
		{`{"host": {"name": "x"}}`, false, ""},
		{`{"a": [1]}`, false, ""},
		{`{"a": 1`, false, `"a"=1 `},
		{`{"a" 1}`, false, ""},
		{`{"a": }`, false, ""},
		{`{"a": "x`, false, ""},
		{`[1]`, false, ""},
		{``, false, ""},
	} {
		var got strings.Builder
		flat := eachField([]byte(c.in), func(k, v []byte) { got.WriteString(string(k) + "=" + string(v) + " ") })
		if flat != c.flat || got.String() != c.want {
			t.Errorf("eachField(%q) = %v, %q; want %v, %q", c.in, flat, got.String(), c.flat, c.want)
		}
	}
}

// TestParseARealCrash has a real Node.js process die of an uncaught exception and reads
// the report it writes.
func TestParseARealCrash(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "crash.js")
	const js = `const net = require('net');
const server = net.createServer().listen(0, '127.0.0.1', () => {
  setTimeout(function chargeCard() {
    const err = new Error('card processor said no: ' + server.address().port);
    err.code = 'E_DECLINED';
    throw err;
  }, 10);
});
`
	if err := os.WriteFile(script, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--report-uncaught-exception", "--report-directory="+dir, "--report-filename=crash.json", script)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("node did not exit within 20 s: %s", out)
	}
	if err == nil {
		t.Fatalf("the crash script exited 0: %s", out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "crash.json"))
	if err != nil {
		t.Fatalf("no report: %v; node said: %s", err, out)
	}
	r, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Error == nil || !strings.Contains(r.Error.Message, "card processor said no") || r.Error.Code != "E_DECLINED" ||
		len(r.Error.Stack) == 0 || !strings.Contains(r.Error.Stack[0], "chargeCard") {
		t.Fatalf("error %+v", r.Error)
	}
	if r.Version < 1 || r.Event != "Exception" || r.PID != cmd.Process.Pid || !strings.HasPrefix(r.NodeVersion, "v") {
		t.Errorf("version %d event %q pid %d (node's %d) node %q", r.Version, r.Event, r.PID, cmd.Process.Pid, r.NodeVersion)
	}
	if r.Heap.UsedBytes == nil || r.Heap.LimitBytes == nil || *r.Heap.UsedBytes == 0 || *r.Heap.UsedBytes > *r.Heap.LimitBytes {
		t.Errorf("heap used %s limit %s", show(r.Heap.UsedBytes), show(r.Heap.LimitBytes))
	}
	if r.RSSBytes == nil || *r.RSSBytes < 1<<20 {
		t.Errorf("rss %s", show(r.RSSBytes))
	}
	if !r.OpenFilesKnown {
		t.Errorf("open-files limit unknown: %q", warnings(r))
	}
	if h := handleOf(r, "tcp", 0); h == nil || !strings.HasPrefix(h.Local, "127.0.0.1:") || !h.Active || h.FD == nil {
		t.Errorf("listening socket %+v", h)
	}
	if r.Version <= newestKnownVersion && len(r.Warnings) > 0 {
		t.Errorf("warnings %q", warnings(r))
	}
}

// FuzzParse: no input makes Parse panic, an error is always one of the two
// sentinels, and a report comes back whenever there is no error.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"v1.json", "v2.json", "v3.json", "v4.json", "v4-crash.json", "v4-oom.json", "v5.json", "unknown-v9.json", "truncated.json", "not-a-report.json"} {
		f.Add(fixture(f, name))
	}
	for _, s := range []string{
		`{"header":{"reportVersion":1e400},"libuv":[{"fd":1e30,"localEndpoint":{"port":"x"}}]}`,
		`{"header":{"nodejsVersion":"v1"},"libuv":{"handles":[{"type":"timer","repeat":-9223372036854775808,"firesInMsFromNow":-1e300,"expired":true}]}}`,
		`{"header":{"reportVersion":"3"},"resourceUsage":{"maxRss":"18446744073709551615"},"javascriptHeap":{"totalMemory":0}}`,
		`{"header":{"reportVersion":4,"platform":"darwin"},"resourceUsage":{"maxRss":1099511627776},"javascriptHeap":{"totalMemory":1}}`,
		`{"header":{"reportVersion":5},"userLimits":{"open_files":{"soft":"unlimited","hard":-1}},"javascriptStack":{"message":"x","stack":[1,null,"at y"],"errorProperties":{"code":{}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			if r != nil {
				t.Fatalf("a report and an error: %v", err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotReport) {
				t.Fatalf("error %q wraps neither sentinel", err)
			}
			return
		}
		if r == nil || r.Version < 0 {
			t.Fatalf("report %+v", r)
		}
		for _, h := range r.Handles {
			if h.FD != nil && *h.FD < 0 {
				t.Fatalf("negative fd in %+v", h)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	small := fixture(b, "v4.json")
	// A big report: 200,000 handles and a 20 MB environment, about 60 MB in all.
	var big strings.Builder
	big.WriteString(`{"header": {"reportVersion": 4, "nodejsVersion": "v20.20.2"}, "environmentVariables": {"BIG": "`)
	big.WriteString(strings.Repeat("x", 20<<20))
	big.WriteString(`"}, "libuv": [`)
	for i := 0; i < 200000; i++ {
		if i > 0 {
			big.WriteString(",")
		}
		big.WriteString(`{"type": "tcp", "is_active": true, "is_referenced": true, "address": "0x000000002c735500", "localEndpoint": {"ip4": "127.0.0.1", "host": "127.0.0.1", "port": 38501}, "remoteEndpoint": {"ip4": "10.0.0.7", "host": "10.0.0.7", "port": 5432}, "sendBufferSize": 16384, "recvBufferSize": 131072, "fd": 23, "writeQueueSize": 0, "readable": true, "writable": true}`)
	}
	big.WriteString("]}")
	for _, c := range []struct {
		name string
		data []byte
	}{{"v4", small}, {"60MB", []byte(big.String())}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(c.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
