package evidence

import (
	"encoding/json"
	"math"
	"testing"
)

// TestEvidenceJSON: a value marshals to its raw value alone, as a map[string]any of the
// same Go values did (keys sorted, no HTML escapes added by the value itself).
func TestEvidenceJSON(t *testing.T) {
	ev := Evidence{
		"count": Count(uint8(3)), "bytes": Bytes(int64(-2048)), "big_bytes": Bytes(uint64(math.MaxUint64)),
		"percent": Percent(97.3), "window_ms": Millis(int64(2000)), "p99_ms": Millis(150.5), "rate_per_hour": Rate(12.0, "hour"),
		"fds": FDs([]int{3, 4}), "pids": PIDs(nil), "none": Texts([]string{}), "path": Text("<a&b>"), "truncated": Flag(true),
		"hard_limit": Unlimited(), "code": Null(), "by_type": CountsBy(map[string]int{"tcp": 2, "file": 1}),
		"groups": Objects([]Evidence{{"peer": Text("10.0.0.1"), "local_port": Null(), "remote_port": Int(5432)}}),
		"record": Record(struct {
			Z int `json:"z"`
			A int `json:"a"`
		}{1, 2}),
	}
	got, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"count": uint8(3), "bytes": int64(-2048), "big_bytes": uint64(math.MaxUint64),
		"percent": 97.3, "window_ms": int64(2000), "p99_ms": 150.5, "rate_per_hour": 12.0,
		"fds": []int{3, 4}, "pids": []int(nil), "none": []string{}, "path": "<a&b>", "truncated": true,
		"hard_limit": nil, "code": nil, "by_type": map[string]int{"tcp": 2, "file": 1},
		"groups": []map[string]any{{"peer": "10.0.0.1", "local_port": nil, "remote_port": 5432}},
		"record": json.RawMessage(`{"z":1,"a":2}`),
	}
	old, _ := json.Marshal(want)
	if string(got) != string(old) {
		t.Errorf("typed evidence\n%s\nmap evidence\n%s", got, old)
	}
}

// TestEvidenceRoundTrip: saved and read back, evidence keeps its values and gets back the
// units its keys name, so it renders as the live evidence did.
func TestEvidenceRoundTrip(t *testing.T) {
	live := Evidence{
		"used_bytes": Bytes(uint64(5 << 20)), "used_percent": Percent(45.5), "window_ms": Millis(int64(300)),
		"hard_limit": Unlimited(), "fds": FDs([]int{7, 9}), "pids": PIDs([]int{10}), "count": Count(2),
		"files": Objects([]Evidence{{"fd": Int(7), "size_bytes": Bytes(int64(100))}}), "trigger": Text("Exception"),
	}
	b, err := json.Marshal(live)
	if err != nil {
		t.Fatal(err)
	}
	var saved Evidence
	if err := json.Unmarshal(b, &saved); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(saved)
	if string(again) != string(b) {
		t.Errorf("saved evidence marshals to\n%s\nnot\n%s", again, b)
	}
	for k, v := range live {
		if u := saved[k].Unit(); u != v.Unit() && !(v.Unit() == UnitCount && u == UnitNone) {
			t.Errorf("%s: unit %q after the round trip, %q before", k, u, v.Unit())
		}
		if saved[k].Kind() != v.Kind() {
			t.Errorf("%s: kind %v after the round trip, %v before", k, saved[k].Kind(), v.Kind())
		}
	}
	files, _ := saved["files"].List()
	f, _ := files[0].Object()
	if f["size_bytes"].Unit() != UnitBytes {
		t.Errorf("nested size: unit %q", f["size_bytes"].Unit())
	}
	var null Evidence
	if err := json.Unmarshal([]byte("null"), &null); err != nil || null != nil {
		t.Errorf("null evidence: %v %v", null, err)
	}
	if err := json.Unmarshal([]byte("[1]"), &null); err == nil {
		t.Error("a list read as evidence")
	}
}

// TestValueInt: an integer reads back whatever integer type built it.
func TestValueInt(t *testing.T) {
	for _, v := range []Value{Count(7), Count(int32(7)), Count(uint64(7)), Int(uint16(7)), Bytes(int64(7)), Number(7)} {
		if n, ok := v.Int(); !ok || n != 7 {
			t.Errorf("%#v: Int() = %d, %v", v, n, ok)
		}
	}
	if _, ok := Number(7.5).Int(); ok {
		t.Error("7.5 read as an integer")
	}
	if _, ok := Text("7").Int(); ok {
		t.Error("text read as an integer")
	}
	if n, ok := Bytes(uint64(math.MaxUint64)).Uint(); !ok || n != math.MaxUint64 {
		t.Errorf("max uint64: %d %v", n, ok)
	}
}
