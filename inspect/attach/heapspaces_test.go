package attach

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDecodeHeapReading(t *testing.T) {
	quoted := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	r, err := decodeHeapReading(quoted(`{"used": 100, "limit": 184549376, "spaces": [{"space_name": "old_space", "space_size": 90, "space_used_size": 80, "space_available_size": 1}, {"space_name": "new_space", "space_used_size": 5}], "exec_argv": ["--max-old-space-size=128"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Used != 100 || r.Limit != 184549376 || len(r.Spaces) != 2 || r.Spaces[0].Name != "old_space" || r.Spaces[0].Used != 80 || r.Spaces[1].Used != 5 ||
		strings.Join(r.ExecArgv, " ") != "--max-old-space-size=128" {
		t.Fatalf("%+v", r)
	}
	// A target that could not give the spaces or its options still gives the two numbers.
	r, err = decodeHeapReading(quoted(`{"used": 1, "limit": 2, "spaces": null, "exec_argv": null}`))
	if err != nil || r.Spaces != nil || r.ExecArgv != nil {
		t.Fatalf("%+v %v", r, err)
	}
	for _, in := range []string{
		`{"used": 1}`, // no limit
		`{"limit": 1}`,
		`[1, 2]`,
		`{"used": -1, "limit": 2}`,
		`{"used": 1, "limit": 2, "spaces": [{"space_used_size": "x"}]}`,
		`not json`,
		``,
	} {
		if _, err := decodeHeapReading(quoted(in)); err == nil {
			t.Errorf("%q decoded", in)
		}
	}
	if _, err := decodeHeapReading(json.RawMessage(`42`)); err == nil {
		t.Error("a number instead of a string decoded")
	}
}

func TestReadHeapAsksTheTarget(t *testing.T) {
	addr := fakeInspector(t, func(method string, params map[string]any) (any, bool) {
		if method != "Runtime.evaluate" || !strings.Contains(params["expression"].(string), "getHeapSpaceStatistics") {
			return map[string]any{}, true
		}
		return stringResult(map[string]any{"used": 7, "limit": 9, "spaces": []map[string]any{{"space_name": "old_space", "space_used_size": 3}}, "exec_argv": []string{}}), true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	target, err := ListTargets(ctx, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(ctx, target.WebSocketURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := ReadHeap(ctx, c)
	if err != nil || r.Used != 7 || r.Limit != 9 || r.Spaces[0].Used != 3 {
		t.Fatalf("%+v %v", r, err)
	}
}

func FuzzDecodeHeapReading(f *testing.F) {
	f.Add([]byte(`"{\"used\": 1, \"limit\": 2, \"spaces\": [{\"space_name\": \"old_space\", \"space_used_size\": 3}]}"`))
	f.Add([]byte(`"{}"`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeHeapReading(json.RawMessage(b))
		if err == nil && r == nil {
			t.Fatal("nil reading without an error")
		}
	})
}

func TestDecodeAnswerWithSpaces(t *testing.T) {
	b, _ := json.Marshal(`{"version": "v20.20.2", "spaces": [{"space_name": "old_space", "space_used_size": 12}, {"space_name": "code_space", "space_used_size": 3}], "exec_argv": ["--max-old-space-size=256"], "errors": {}}`)
	a, err := decodeAnswer(b)
	if err != nil || len(a.Spaces) != 2 || a.Spaces[1].Name != "code_space" || a.Spaces[0].Used != 12 || a.ExecArgv[0] != "--max-old-space-size=256" {
		t.Fatalf("%+v %v", a, err)
	}
	// An old Node without getHeapSpaceStatistics: the error is recorded, the spaces nil.
	b, _ = json.Marshal(`{"version": "v8.0.0", "errors": {"spaces": "not a function"}}`)
	if a, err = decodeAnswer(b); err != nil || a.Spaces != nil || a.Errors["spaces"] == "" {
		t.Fatalf("%+v %v", a, err)
	}
}
