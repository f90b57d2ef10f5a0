package attach

import (
	"errors"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{`{"Browser":"node.js/v20.20.2","Protocol-Version":"1.1"}`, true},
		{`{"Browser":"Node.js/v22.1.0"}`, true},
		{`{"Browser":"Chrome/120"}`, false},
		{`{}`, false},
		{`not json`, false},
		{``, false},
		{`{"Browser":5}`, false},
		{`[]`, false},
	} {
		v, err := ParseVersion([]byte(c.body))
		if (err == nil) != c.ok {
			t.Errorf("ParseVersion(%q) = %+v, %v; want ok %v", c.body, v, err, c.ok)
		}
		if err != nil && c.body != "" && c.body != "not json" && c.body != `{"Browser":5}` && c.body != `[]` && !errors.Is(err, ErrNotInspector) {
			t.Errorf("ParseVersion(%q): %v does not wrap ErrNotInspector", c.body, err)
		}
	}
}

func FuzzParseVersion(f *testing.F) {
	f.Add([]byte(`{"Browser":"node.js/v20.20.2"}`))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseVersion(b) })
}

func TestDeadmanExpression(t *testing.T) {
	e := DeadmanExpression(1500, 9229)
	if want := "const ms = 1500, port = 9229;"; !contains(e, want) {
		t.Fatalf("expression lacks %q", want)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
