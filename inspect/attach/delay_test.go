package attach

import (
	"encoding/json"
	"testing"
)

func TestDecodeDelayAndOwners(t *testing.T) {
	quote := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	d, err := decodeDelay(quote(`{"count":30,"p50":10100000,"p99":52000000,"max":53000000,"utilization":0.8}`))
	if err != nil || d.P99 != 52e6 || *d.Count != 30 || d.Utilization != 0.8 {
		t.Errorf("decodeDelay = %+v, %v", d, err)
	}
	for _, bad := range []json.RawMessage{json.RawMessage(`42`), quote(`{"error":"gone"}`), quote(`{"p99":"x"}`), quote(`not json`), json.RawMessage(`null`)} {
		if d, err := decodeDelay(bad); err == nil {
			t.Errorf("decodeDelay(%s) = %+v, want an error", bad, d)
		}
	}
	o, err := decodeOwners(quote(`{"sockets":[{"fd":21,"role":"accepted","server":"http.Server","listen":"4:127.0.0.1:0","server_fd":19,"request":{"method":"POST","path":"/upload"}}],"errors":[]}`))
	if err != nil || len(o.Sockets) != 1 || o.Sockets[0].Request.Path != "/upload" || *o.Sockets[0].ServerFD != 19 {
		t.Errorf("decodeOwners = %+v, %v", o, err)
	}
	for _, bad := range []json.RawMessage{json.RawMessage(`{}`), quote(`{"sockets":7}`), quote(`[`)} {
		if o, err := decodeOwners(bad); err == nil {
			t.Errorf("decodeOwners(%s) = %+v, want an error", bad, o)
		}
	}
}

func FuzzDecodeDelay(f *testing.F) {
	f.Add([]byte(`"{\"count\":1,\"p50\":1,\"p99\":2,\"max\":3,\"utilization\":0.5}"`))
	f.Add([]byte(`"{\"error\":\"x\"}"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = decodeDelay(data)
	})
}

func FuzzDecodeOwners(f *testing.F) {
	f.Add([]byte(`"{\"sockets\":[{\"fd\":3,\"role\":\"socket\"}],\"errors\":[]}"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = decodeOwners(data)
	})
}
