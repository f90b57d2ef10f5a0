package probes

import "testing"

func TestLookupEnv(t *testing.T) {
	env := []byte("PATH=/bin\x00NODE_OPTIONS=--inspect=0.0.0.0:9230 --max-old-space-size=512\x00EMPTY=\x00NODE_OPTIONSX=no\x00")
	cases := []struct {
		key, want string
		ok        bool
	}{
		{"PATH", "/bin", true},
		{"NODE_OPTIONS", "--inspect=0.0.0.0:9230 --max-old-space-size=512", true},
		{"EMPTY", "", true},
		{"MISSING", "", false},
		{"NODE", "", false},
	}
	for _, c := range cases {
		got, ok := LookupEnv(env, c.key)
		if got != c.want || ok != c.ok {
			t.Errorf("LookupEnv(%q) = %q, %v; want %q, %v", c.key, got, ok, c.want, c.ok)
		}
	}
	if _, ok := LookupEnv(nil, "PATH"); ok {
		t.Error("empty environ must find nothing")
	}
	if v, ok := LookupEnv([]byte("A=1"), "A"); !ok || v != "1" {
		t.Errorf("unterminated last entry: got %q %v", v, ok)
	}
}

func FuzzLookupEnv(f *testing.F) {
	f.Add([]byte("A=1\x00B=2\x00"), "B")
	f.Add([]byte("\x00\x00=\x00"), "")
	f.Fuzz(func(t *testing.T, env []byte, key string) {
		v, ok := LookupEnv(env, key)
		if !ok && v != "" {
			t.Fatalf("not found but value %q", v)
		}
	})
}
