package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

var updateEvidence = flag.Bool("update-evidence", false, "rewrite testdata/evidence-baseline")

// TestEvidenceBaseline renders every fixture in JSON and the human formats, built in
// memory and read back from its own JSON, and compares both with the files of
// testdata/evidence-baseline: a saved snapshot renders as the live one did.
func TestEvidenceBaseline(t *testing.T) {
	variants := append([]struct {
		name string
		opt  Options
	}{{"json", Options{Format: FormatJSON}}}, humanVariants...)
	for _, s := range snapshots {
		live := s.snap()
		b, err := json.Marshal(live)
		if err != nil {
			t.Fatal(err)
		}
		var saved model.Snapshot
		if err := json.Unmarshal(b, &saved); err != nil {
			t.Fatal(err)
		}
		for _, v := range variants {
			name := filepath.Join("testdata", "evidence-baseline", s.name+"-"+v.name)
			got := render(t, live, v.opt)
			if *updateEvidence {
				if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(name, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: live render differs\n--- got\n%s", name, got)
			}
			if s.name == "hostile" {
				// Its invalid UTF-8 does not survive JSON: the saved strings differ.
				continue
			}
			if again := render(t, &saved, v.opt); !bytes.Equal(again, want) {
				t.Errorf("%s: saved render differs\n--- got\n%s", name, again)
			}
		}
	}
}

// decoded is m as a saved document's evidence: JSON has no units, the decoder restores them.
func decoded(m map[string]any) evidence.Evidence {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	var e evidence.Evidence
	if err := json.Unmarshal(b, &e); err != nil {
		panic(err)
	}
	return e
}
