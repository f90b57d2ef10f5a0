package arm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/closer"
	"github.com/nodeinspect/nodeinspect/inspect/session"
)

// CrashSettings are the run-time switches that make the next crash leave evidence.
type CrashSettings struct {
	ReportOnFatalError        bool   `json:"report_on_fatal_error"`
	ReportOnUncaughtException bool   `json:"report_on_uncaught_exception"`
	ReportDirectory           string `json:"report_directory"` // "" is the process's cwd
	// HeapSnapshotNearHeapLimit is true when a snapshot near the heap limit is armed
	// (--heapsnapshot-near-heap-limit on the command line, or an earlier arm); V8 cannot
	// switch it off again at run time.
	HeapSnapshotNearHeapLimit bool `json:"heap_snapshot_near_heap_limit"`
}

// State is what an arm records for a later --disarm (and --show), in
// StateDir()/<pid>-<start ticks>.armed.json next to the closer's state: the settings found
// before the first arm.
type State struct {
	PID        int           `json:"pid"`
	StartTicks uint64        `json:"start_ticks"`
	ArmedAt    time.Time     `json:"armed_at"`
	Old        CrashSettings `json:"old"`
}

// Result is what the target answered: settings before and after, and facts for the
// memory warning.
type Result struct {
	Old, New CrashSettings
	// NearLimitSupported is false when this Node version has no
	// v8.setHeapSnapshotNearHeapLimit.
	NearLimitSupported bool
	// HeapLimitBytes is V8's heap size limit (v8.getHeapStatistics().heap_size_limit).
	HeapLimitBytes uint64
	// Cwd is the target's working directory (where reports go when the directory is "").
	Cwd string
}

// armExpression reads the settings, applies want (null: only read) and answers JSON. It
// guards every access, never throws, and defines nothing in the target.
const armExpression = `(() => {
  try {
    const want = __WANT__;
    const r = process.report;
    if (!r) return JSON.stringify({ error: 'process.report is not available in this Node.js version' });
    const builtin = (n) => (typeof process.getBuiltinModule === 'function') ? process.getBuiltinModule(n) : require(n);
    const v8 = builtin('v8');
    const read = () => ({ report_on_fatal_error: !!r.reportOnFatalError, report_on_uncaught_exception: !!r.reportOnUncaughtException, report_directory: String(r.directory || '') });
    const old = read();
    let nearLimit = typeof v8.setHeapSnapshotNearHeapLimit === 'function';
    if (want) {
      if (typeof want.report_directory === 'string') r.directory = want.report_directory;
      r.reportOnFatalError = !!want.report_on_fatal_error;
      r.reportOnUncaughtException = !!want.report_on_uncaught_exception;
      if (want.heap_snapshot_near_heap_limit && nearLimit) v8.setHeapSnapshotNearHeapLimit(1);
    }
    const now = read();
    const cli = process.execArgv.some((a) => a.startsWith('--heapsnapshot-near-heap-limit'));
    return JSON.stringify({ old, now, near_limit_supported: nearLimit, cli_near_limit: cli,
      heap_limit: v8.getHeapStatistics().heap_size_limit, cwd: process.cwd() });
  } catch (e) { return JSON.stringify({ error: String((e && e.message) || e) }); }
})()`

// evaluateJSON runs a guarded expression that returns a JSON string and decodes it.
func evaluateJSON(ctx context.Context, s *session.Session, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails json.RawMessage `json:"exceptionDetails"`
	}
	if err := s.Call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "silent": true, "includeCommandLineAPI": true}, &res); err != nil {
		return err
	}
	if len(res.ExceptionDetails) > 0 {
		return fmt.Errorf("the target could not run the query: %s", clipText(string(res.ExceptionDetails)))
	}
	var text string
	if err := json.Unmarshal(res.Result.Value, &text); err != nil {
		return fmt.Errorf("the target answered %s, not a string: %w", clipText(string(res.Result.Value)), err)
	}
	var probe struct {
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(text), &probe) == nil && probe.Error != "" {
		return errors.New("the target said: " + probe.Error)
	}
	if err := json.Unmarshal([]byte(text), out); err != nil {
		return fmt.Errorf("decode the target's answer %s: %w", clipText(text), err)
	}
	return nil
}

func clipText(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// CrashEvidence reads the crash settings and, when want is not nil, applies it. The
// near-limit snapshot reads as armed when the command line set it or an earlier arm of
// nodeinspect recorded it (V8 offers no way to ask).
func CrashEvidence(ctx context.Context, s *session.Session, want *CrashSettings) (*Result, error) {
	wantJSON := "null"
	if want != nil {
		b, err := json.Marshal(want)
		if err != nil {
			return nil, err
		}
		wantJSON = string(b)
	}
	var ans struct {
		Old, Now           CrashSettings
		NearLimitSupported bool    `json:"near_limit_supported"`
		CLINearLimit       bool    `json:"cli_near_limit"`
		HeapLimit          float64 `json:"heap_limit"`
		Cwd                string  `json:"cwd"`
	}
	if err := evaluateJSON(ctx, s, strings.Replace(armExpression, "__WANT__", wantJSON, 1), &ans); err != nil {
		return nil, fmt.Errorf("read the crash settings of process %d: %w", s.PID(), err)
	}
	st, _ := ReadState(s.PID(), s.StartTicks())
	armedBefore := ans.CLINearLimit || (st != nil && st.nearLimitArmed)
	r := &Result{Old: ans.Old, New: ans.Now, NearLimitSupported: ans.NearLimitSupported, HeapLimitBytes: uint64(ans.HeapLimit), Cwd: ans.Cwd}
	r.Old.HeapSnapshotNearHeapLimit = armedBefore
	r.New.HeapSnapshotNearHeapLimit = armedBefore || (want != nil && want.HeapSnapshotNearHeapLimit && ans.NearLimitSupported)
	return r, nil
}

// armStateFile is the ArmState of one process.
func armStateFile(pid int, ticks uint64) string {
	return filepath.Join(closer.StateDir(), fmt.Sprintf("%d-%d.armed.json", pid, ticks))
}

// armStateOnDisk is ArmState plus whether the near-limit snapshot was armed by us.
type armStateOnDisk struct {
	State
	nearLimitArmed bool
	// disarmed: a --disarm restored the old settings; only the near-limit flag is left.
	disarmed bool
}

// Active reports whether the record holds settings to restore.
func (a *armStateOnDisk) Active() bool { return a != nil && !a.disarmed }

// ReadState reads what an earlier arm recorded for the process (nil when none).
func ReadState(pid int, ticks uint64) (*armStateOnDisk, error) {
	data, err := os.ReadFile(armStateFile(pid, ticks))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var st struct {
		State
		NearLimitArmed bool `json:"near_limit_armed"`
		Disarmed       bool `json:"disarmed"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("read %s: %w", armStateFile(pid, ticks), err)
	}
	return &armStateOnDisk{st.State, st.NearLimitArmed, st.Disarmed}, nil
}

// WriteState records old (the settings found before the first arm) unless a record
// exists already, and whether the near-limit snapshot is now armed.
func WriteState(pid int, ticks uint64, old CrashSettings, nearLimit bool, now time.Time) error {
	prev, err := ReadState(pid, ticks)
	if err != nil {
		return err
	}
	st := struct {
		State
		NearLimitArmed bool `json:"near_limit_armed"`
	}{State{PID: pid, StartTicks: ticks, ArmedAt: now, Old: old}, nearLimit}
	if prev.Active() {
		st.State = prev.State
	}
	if prev != nil {
		st.NearLimitArmed = st.NearLimitArmed || prev.nearLimitArmed
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(closer.StateDir(), 0o700); err != nil {
		return fmt.Errorf("make %s: %w", closer.StateDir(), err)
	}
	p := armStateFile(pid, ticks)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	return os.Rename(tmp, p)
}

// ClearState removes the record after a disarm, keeping the near-limit flag when it is
// armed (V8 cannot switch it off, so a later --show must still say so).
func ClearState(pid int, ticks uint64, nearLimitArmed bool) error {
	if nearLimitArmed {
		st := struct {
			State
			NearLimitArmed bool `json:"near_limit_armed"`
			Disarmed       bool `json:"disarmed"`
		}{State{PID: pid, StartTicks: ticks}, true, true}
		data, _ := json.Marshal(st)
		return os.WriteFile(armStateFile(pid, ticks), data, 0o600)
	}
	err := os.Remove(armStateFile(pid, ticks))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
