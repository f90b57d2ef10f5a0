package diff

import (
	"fmt"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

// Snapshots seconds apart give absolute changes; a minute or more apart, rates and the time
// to the limit.
func TestCompareShortIntervalHasNoRates(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var leaked []model.FD
	for i := 0; i < 40; i++ {
		leaked = append(leaked, model.FD{FD: 600 + i, Type: "file", Target: fmt.Sprintf("/tmp/leak-%d", i)})
	}
	for _, c := range []struct {
		gap   time.Duration
		rates bool
	}{{5 * time.Second, false}, {59 * time.Second, false}, {time.Minute, true}, {10 * time.Minute, true}} {
		a, b := fdSnapshot(1024, 30), fdSnapshot(1024, 30, leaked...)
		a.TakenAt, b.TakenAt = t0, t0.Add(c.gap)
		d := Compare(a, b, DefaultThresholds(), t0)
		if d.ShortInterval == c.rates || codes(d.Findings) != "FD_GROWTH:warning" {
			t.Fatalf("%s: short %v findings %s", c.gap, d.ShortInterval, codes(d.Findings))
		}
		ev := d.Findings[0].Evidence
		_, hasRate := ev["rate_per_hour"]
		_, hasTTL := ev["time_to_limit_seconds"]
		if hasRate != c.rates || hasTTL != c.rates || ev["change"] != evidence.Number(40) {
			t.Errorf("%s: evidence %v", c.gap, ev)
		}
		if !c.rates && d.Findings[0].Summary != "Open fds grew from 30 to 70 (+40)" {
			t.Errorf("%s: summary %q", c.gap, d.Findings[0].Summary)
		}
	}
}

// A file deleted while held, between the snapshots, is reported; one already held deleted
// at the first snapshot, and anonymous memory, are not.
func TestCompareDeletedFilesNewlyHeld(t *testing.T) {
	size := int64(8 << 20)
	old := model.FD{FD: 10, Type: "file", Target: "/var/log/old.log", Deleted: true, Size: &size}
	rotated := model.FD{FD: 11, Type: "file", Target: "/var/log/app.log"}
	memfd := model.FD{FD: 12, Type: "file", Target: "/memfd:buf", Deleted: true}
	a := fdSnapshot(1024, 20, old, rotated, memfd)
	rotatedNow := rotated
	rotatedNow.Deleted, rotatedNow.Size = true, &size
	tmp := model.FD{FD: 13, Type: "file", Target: "/tmp/upload-1", Deleted: true}
	b := fdSnapshot(1024, 20, old, rotatedNow, memfd, tmp)
	b.TakenAt = a.TakenAt.Add(10 * time.Second)
	d := Compare(a, b, DefaultThresholds(), b.TakenAt)
	if len(d.FDs.DeletedNew) != 2 || d.FDs.DeletedNew[0].Path != "/var/log/app.log" || d.FDs.DeletedNew[1].Path != "/tmp/upload-1" || d.FDs.DeletedNewBytes != size {
		t.Fatalf("deleted new %+v bytes %d", d.FDs.DeletedNew, d.FDs.DeletedNewBytes)
	}
	if codes(d.Findings) != "DELETED_FILES_HELD:warning" || d.Findings[0].Evidence["count"] != evidence.Count(2) {
		t.Fatalf("findings %s %v", codes(d.Findings), d.Findings)
	}
	// Nothing new: no finding.
	d = Compare(b, b, DefaultThresholds(), b.TakenAt)
	if len(d.FDs.DeletedNew) != 0 || len(d.Findings) != 0 {
		t.Fatalf("same snapshot: %+v %s", d.FDs.DeletedNew, codes(d.Findings))
	}
}
