package attach

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// delayStartTemplate installs an event-loop delay monitor in the target
// (perf_hooks.monitorEventLoopDelay, a libuv timer every 10 ms that records how late it
// fires) and takes an eventLoopUtilization mark, under a registry symbol on process. An
// unref'd timer removes both __MS__ ms later, so a run that dies before reading leaves
// nothing behind for long; delayReadExpression removes them at once. Every step is
// guarded: it never throws in the target.
const delayStartTemplate = `(() => {
  try {
    const k = Symbol.for('nodeinspect.delay');
    const ph = (typeof process.getBuiltinModule === 'function') ? process.getBuiltinModule('perf_hooks') : require('perf_hooks');
    const prev = process[k];
    if (prev) { try { prev.h.disable(); clearTimeout(prev.t); } catch (e) {} delete process[k]; }
    const h = ph.monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    const elu = ph.performance.eventLoopUtilization();
    const t = setTimeout(() => { try { h.disable(); if (process[k] && process[k].h === h) delete process[k]; } catch (e) {} }, __MS__);
    t.unref();
    process[k] = { h, elu, t, ph };
    return 'started';
  } catch (e) { return 'error: ' + String((e && e.message) || e); }
})()`

// delayReadExpression reads the monitor's histogram (nanoseconds) and the utilization
// since the mark, removes the monitor and its timer, and returns them as a JSON string.
const delayReadExpression = `(() => {
  const k = Symbol.for('nodeinspect.delay');
  const s = process[k];
  if (!s) return JSON.stringify({ error: 'the delay monitor is gone (removed by its own time limit)' });
  delete process[k];
  try {
    clearTimeout(s.t);
    s.h.disable();
    const u = s.ph.performance.eventLoopUtilization(s.elu);
    return JSON.stringify({ count: typeof s.h.count === 'number' ? s.h.count : null, p50: s.h.percentile(50), p99: s.h.percentile(99),
      max: s.h.max, utilization: u.utilization });
  } catch (e) { return JSON.stringify({ error: String((e && e.message) || e) }); }
})()`

// Delay is what the delay monitor measured.
type Delay struct {
	// Count is how many delays were recorded (nil on a Node without histogram.count).
	Count *int64 `json:"count"`
	// P50, P99 and Max are delays in nanoseconds.
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
	// Utilization is performance.eventLoopUtilization over the window, 0 to 1.
	Utilization float64 `json:"utilization"`
	Error       string  `json:"error"`
}

// StartDelay installs the delay monitor; it removes itself after removeAfterMS if
// ReadDelay never comes.
func StartDelay(ctx context.Context, c *Conn, removeAfterMS int64) error {
	expr := strings.Replace(delayStartTemplate, "__MS__", strconv.FormatInt(removeAfterMS, 10), 1)
	var res evaluateResult
	if err := c.Call(ctx, "Runtime.evaluate", evaluateParams{Expression: expr, IncludeCommandLineAPI: true, ReturnByValue: true, Silent: true}, &res); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", ErrNoAnswer, err)
		}
		return err
	}
	if v := strings.Trim(string(res.Result.Value), `"`); v != "started" {
		return fmt.Errorf("the target could not start an event-loop delay monitor: %s", clip(res.Result.Value))
	}
	return nil
}

// ReadDelay reads and removes the delay monitor.
func ReadDelay(ctx context.Context, c *Conn) (*Delay, error) {
	var res evaluateResult
	if err := c.Call(ctx, "Runtime.evaluate", evaluateParams{Expression: delayReadExpression, IncludeCommandLineAPI: true, ReturnByValue: true, Silent: true}, &res); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoAnswer, err)
		}
		return nil, err
	}
	return decodeDelay(res.Result.Value)
}

// decodeDelay reads the JSON string delayReadExpression returns.
func decodeDelay(value json.RawMessage) (*Delay, error) {
	var text string
	if err := json.Unmarshal(value, &text); err != nil {
		return nil, fmt.Errorf("the delay monitor returned %s, not a JSON string: %w", clip(value), err)
	}
	var d Delay
	if err := json.Unmarshal([]byte(text), &d); err != nil {
		return nil, fmt.Errorf("decode the delay monitor's answer %q: %w", clip([]byte(text)), err)
	}
	if d.Error != "" {
		return nil, fmt.Errorf("the delay monitor failed in the target: %s", d.Error)
	}
	return &d, nil
}
