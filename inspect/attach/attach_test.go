package attach

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fakeInspector serves /json/list and one WebSocket session whose answers reply gives.
func fakeInspector(t *testing.T, reply func(method string, params map[string]any) (answer any, ok bool)) (addr string) {
	t.Helper()
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/json/list", func(w http.ResponseWriter, r *http.Request) {
		host := strings.TrimPrefix(srv.URL, "http://")
		json.NewEncoder(w).Encode([]Target{{ID: "abc", Type: "node", WebSocketURL: "ws://" + host + "/abc"}})
	})
	mux.HandleFunc("/abc", func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		for {
			_, data, err := ws.Read(r.Context())
			if err != nil {
				return
			}
			var req struct {
				ID     int64          `json:"id"`
				Method string         `json:"method"`
				Params map[string]any `json:"params"`
			}
			json.Unmarshal(data, &req)
			// An event first: the client must skip it.
			ws.Write(r.Context(), websocket.MessageText, []byte(`{"method":"Runtime.executionContextCreated","params":{}}`))
			ans, ok := reply(req.Method, req.Params)
			if !ok {
				continue // never answer
			}
			msg, _ := json.Marshal(map[string]any{"id": req.ID, "result": ans})
			ws.Write(r.Context(), websocket.MessageText, msg)
		}
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func stringResult(v any) map[string]any {
	b, _ := json.Marshal(v)
	return map[string]any{"result": map[string]any{"type": "string", "value": string(b)}}
}

func TestAskDecodesTheAnswerAndAsksForTheClose(t *testing.T) {
	var expr string
	addr := fakeInspector(t, func(method string, p map[string]any) (any, bool) {
		expr, _ = p["expression"].(string)
		return stringResult(map[string]any{
			"version":         "v20.20.2",
			"memory":          map[string]any{"rss": 5e8, "heapTotal": 1e7, "heapUsed": 8e6, "external": 4e8, "arrayBuffers": 4e8},
			"heap":            map[string]any{"heap_size_limit": 4.3e9},
			"listeners":       map[string]int{"SIGTERM": 1},
			"resources":       []string{"TCPServerWrap", "Timeout"},
			"handles":         []map[string]any{{"type": "tcp", "is_active": true, "is_referenced": true, "fd": 19, "localEndpoint": map[string]any{"ip4": "127.0.0.1", "port": 80}}},
			"close_scheduled": true,
			"errors":          map[string]string{},
		}), true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	target, err := ListTargets(ctx, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := Dial(ctx, target.WebSocketURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ans, err := Ask(ctx, conn, true)
	if err != nil {
		t.Fatal(err)
	}
	if ans.Version != "v20.20.2" || ans.Memory.External != 4e8 || ans.Heap.HeapSizeLimit != 4.3e9 || ans.Listeners["SIGTERM"] != 1 || !ans.CloseScheduled {
		t.Fatalf("answer %+v", ans)
	}
	if len(ans.Handles) != 1 || *ans.Handles[0].FD != 19 || ans.Handles[0].Local.String() != "127.0.0.1:80" {
		t.Fatalf("handles %+v", ans.Handles)
	}
	if !strings.Contains(expr, "if (true)") || !strings.Contains(expr, "inspector.close()") || !strings.Contains(expr, "excludeNetwork = before") {
		t.Fatalf("the query does not schedule the close or does not restore excludeNetwork:\n%s", expr)
	}
}

func TestAskWithoutCloseLeavesTheInspectorAlone(t *testing.T) {
	var expr string
	addr := fakeInspector(t, func(_ string, p map[string]any) (any, bool) {
		expr, _ = p["expression"].(string)
		return stringResult(map[string]any{"version": "v22.1.0"}), true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	target, _ := ListTargets(ctx, addr, nil)
	conn, err := Dial(ctx, target.WebSocketURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := Ask(ctx, conn, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(expr, "if (false)") {
		t.Fatal("the close is not turned off")
	}
}

func TestAskTimesOutWhenTheTargetDoesNotAnswer(t *testing.T) {
	addr := fakeInspector(t, func(string, map[string]any) (any, bool) { return nil, false })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	target, _ := ListTargets(ctx, addr, nil)
	conn, err := Dial(ctx, target.WebSocketURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	short, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel2()
	if _, err := Ask(short, conn, true); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("err %v, want ErrNoAnswer", err)
	}
}

func TestAskReportsAnExceptionInTheTarget(t *testing.T) {
	addr := fakeInspector(t, func(string, map[string]any) (any, bool) {
		return map[string]any{"result": map[string]any{"type": "object"}, "exceptionDetails": map[string]any{"text": "Uncaught", "exception": map[string]any{"description": "ReferenceError: x"}}}, true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	target, _ := ListTargets(ctx, addr, nil)
	conn, _ := Dial(ctx, target.WebSocketURL, nil)
	defer conn.Close()
	if _, err := Ask(ctx, conn, false); err == nil || !strings.Contains(err.Error(), "ReferenceError") {
		t.Fatalf("err %v", err)
	}
}

func TestListTargetsRejectsWhatIsNotAnInspector(t *testing.T) {
	for name, handler := range map[string]http.HandlerFunc{
		"404":       func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
		"html":      func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>hello</html>")) },
		"empty":     func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("[]")) },
		"no ws url": func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`[{"id":"x","type":"node"}]`)) },
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(handler)
			defer srv.Close()
			_, err := ListTargets(context.Background(), strings.TrimPrefix(srv.URL, "http://"), nil)
			if err == nil {
				t.Fatal("no error")
			}
			if name != "no ws url" && !errors.Is(err, ErrNotInspector) {
				t.Fatalf("err %v, want ErrNotInspector", err)
			}
		})
	}
}

func TestEndpointString(t *testing.T) {
	for _, c := range []struct {
		e    *Endpoint
		want string
	}{
		{nil, ""},
		{&Endpoint{IP4: "10.0.0.1", Port: 80}, "10.0.0.1:80"},
		{&Endpoint{IP6: "::1", Port: 443}, "[::1]:443"},
		{&Endpoint{Host: "db", Port: 5432}, "db:5432"},
		{&Endpoint{}, ""},
	} {
		if got := c.e.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.e, got, c.want)
		}
	}
}

func TestDecodeAnswerErrors(t *testing.T) {
	for _, in := range []string{`42`, `"not json"`, `"{\"memory\": 5}"`, ``} {
		if _, err := decodeAnswer(json.RawMessage(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// FuzzDecodeAnswer: whatever the target returns, decoding never panics.
func FuzzDecodeAnswer(f *testing.F) {
	f.Add([]byte(`"{\"version\":\"v20\",\"handles\":[{\"type\":\"tcp\",\"fd\":3}]}"`))
	f.Add([]byte(`"{\"memory\":{\"rss\":1e400}}"`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeAnswer(json.RawMessage(b))
		if err == nil {
			for _, h := range a.Handles {
				_ = h.Local.String() + h.Remote.String()
			}
		}
	})
}
