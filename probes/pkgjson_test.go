package probes

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestParsePackageName(t *testing.T) {
	cases := []struct {
		in, want string
		err      error
	}{
		{`{"name":"checkout-api","version":"1.0.0"}`, "checkout-api", nil},
		{`{"name":"@acme/orders"}`, "@acme/orders", nil},
		{`{"name":"  spaced  "}`, "spaced", nil},
		{`{"version":"1.0.0"}`, "", ErrNoPackageName},
		{`{"name":""}`, "", ErrNoPackageName},
		{`{"name":42}`, "", ErrMalformed},
		{`{"name":null}`, "", ErrNoPackageName},
		{`["name"]`, "", ErrMalformed},
		{`{"name":"x"`, "", ErrMalformed},
		{``, "", ErrMalformed},
		{"\xff\xfe", "", ErrMalformed},
	}
	for _, c := range cases {
		got, err := ParsePackageName([]byte(c.in))
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("ParsePackageName(%q) error = %v, want %v", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParsePackageName(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestReadPackageNameWalksUp(t *testing.T) {
	root := t.TempDir()
	pid := 4242
	app := filepath.Join(root, strconv.Itoa(pid), "root", "srv", "app")
	if err := os.MkdirAll(filepath.Join(app, "src", "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A nameless manifest below the named one is skipped (a workspace's inner folder).
	if err := os.WriteFile(filepath.Join(app, "src", "package.json"), []byte(`{"type":"module"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "package.json"), []byte(`{"name":"orders"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	fs := NewFS(root)
	name, file, err := fs.ReadPackageName(pid, "/srv/app/src/lib")
	if err != nil || name != "orders" || file != "/srv/app/package.json" {
		t.Fatalf("ReadPackageName = %q, %q, %v", name, file, err)
	}
	if _, _, err := fs.ReadPackageName(pid, "/elsewhere"); !errors.Is(err, ErrNoPackageName) {
		t.Fatalf("no manifest: err = %v", err)
	}
	if _, _, err := fs.ReadPackageName(pid, "relative/dir"); !errors.Is(err, ErrNoPackageName) {
		t.Fatalf("relative dir: err = %v", err)
	}
}

func FuzzParsePackageName(f *testing.F) {
	for _, s := range []string{`{"name":"a"}`, `{"name":1}`, `[]`, ``, `{"name":"\u0000"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		name, err := ParsePackageName(data)
		if err == nil && name == "" {
			t.Fatal("empty name without an error")
		}
	})
}
