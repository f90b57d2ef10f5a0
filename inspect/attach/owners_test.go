package attach

import (
	"encoding/json"
	"testing"
)

// TestDecodeOwnersAge: a request's age_ms is decoded when the target measured it, and
// stays nil when it did not (a request received in full).
func TestDecodeOwnersAge(t *testing.T) {
	text := `{"sockets":[{"fd":22,"role":"accepted","server":"http.Server","request":{"method":"POST","path":"/stuck","age_ms":1504}},{"fd":23,"role":"accepted","request":{"method":"GET","path":"/"}}],"errors":[]}`
	raw, _ := json.Marshal(text)
	o, err := decodeOwners(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Sockets) != 2 || o.Sockets[0].Request.AgeMS == nil || *o.Sockets[0].Request.AgeMS != 1504 || o.Sockets[1].Request.AgeMS != nil {
		t.Errorf("decoded %+v", o.Sockets)
	}
}
