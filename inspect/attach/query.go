package attach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// queryTemplate is the one expression evaluated in the target. It gathers everything in a
// single round trip and returns it as a JSON string (so V8 serialises it once and nothing
// of ours stays referenced in the target). Every step is guarded: a failure is recorded
// under "errors" and never thrown in the target. It defines nothing global: the arrow
// function and its locals are garbage once it returns.
//
//   - Modules come from process.getBuiltinModule (Node 22.3, 20.16) or from the require
//     that Runtime.evaluate's includeCommandLineAPI provides for the call's duration.
//   - process.report.getReport() resolves the host name of every socket's endpoints on the
//     main thread unless process.report.excludeNetwork is set (Node 22.0, 20.13): the
//     report is only taken when that switch exists, and the switch is put back as it was.
//   - __CLOSE__ is replaced by true when nodeinspect opened the inspector: inspector.close()
//     is then scheduled with setImmediate, so this answer is sent before the port closes.
const queryTemplate = `(() => {
  const out = { errors: {} };
  const attempt = (key, fn) => { try { out[key] = fn(); } catch (e) { out.errors[key] = String((e && e.message) || e); } };
  const builtin = (name) => (typeof process.getBuiltinModule === 'function') ? process.getBuiltinModule(name) : require(name);
  attempt('version', () => process.version);
  attempt('memory', () => process.memoryUsage());
  attempt('heap', () => builtin('v8').getHeapStatistics());
  attempt('spaces', () => builtin('v8').getHeapSpaceStatistics());
  attempt('exec_argv', () => process.execArgv);
  attempt('listeners', () => ({
    SIGTERM: process.listenerCount('SIGTERM'),
    SIGINT: process.listenerCount('SIGINT'),
    uncaughtException: process.listenerCount('uncaughtException'),
    unhandledRejection: process.listenerCount('unhandledRejection'),
  }));
  attempt('resources', () => typeof process.getActiveResourcesInfo === 'function' ? process.getActiveResourcesInfo() : null);
  attempt('handles', () => {
    const report = process.report;
    if (!report || typeof report.getReport !== 'function' || !('excludeNetwork' in report)) return null;
    const before = report.excludeNetwork;
    report.excludeNetwork = true;
    try { return report.getReport().libuv; } finally { report.excludeNetwork = before; }
  });
  if (__CLOSE__) {
    attempt('close_scheduled', () => {
      const inspector = builtin('inspector');
      setImmediate(() => { try { inspector.close(); } catch (e) {} });
      return true;
    });
  }
  return JSON.stringify(out);
})()`

// closeExpression schedules the inspector's close and nothing else: the cleanup path when
// the query itself was never sent.
// It also disarms the dead-man's switch (deadman.go), so nothing of nodeinspect stays.
const closeExpression = `(() => { try { const k = Symbol.for('nodeinspect.deadman'); if (process[k]) { clearTimeout(process[k]); delete process[k]; } const i = (typeof process.getBuiltinModule === 'function') ? process.getBuiltinModule('inspector') : require('inspector'); setImmediate(() => { try { i.close(); } catch (e) {} }); return true; } catch (e) { return false; } })()`

// Answer is what the target said about itself. A field is nil when the target could not
// tell (its error is in Errors) or is too old to know.
type Answer struct {
	// Version is process.version, e.g. "v20.20.2".
	Version string `json:"version"`
	// Memory is process.memoryUsage(), bytes.
	Memory *struct {
		RSS          uint64  `json:"rss"`
		HeapTotal    uint64  `json:"heapTotal"`
		HeapUsed     uint64  `json:"heapUsed"`
		External     uint64  `json:"external"`
		ArrayBuffers *uint64 `json:"arrayBuffers"`
	} `json:"memory"`
	// Heap is v8.getHeapStatistics(), bytes.
	Heap *struct {
		TotalHeapSize      uint64 `json:"total_heap_size"`
		UsedHeapSize       uint64 `json:"used_heap_size"`
		HeapSizeLimit      uint64 `json:"heap_size_limit"`
		TotalAvailableSize uint64 `json:"total_available_size"`
	} `json:"heap"`
	// Spaces is v8.getHeapSpaceStatistics(), one entry per V8 heap space.
	Spaces []HeapSpace `json:"spaces"`
	// ExecArgv is process.execArgv: the options node was started with (not NODE_OPTIONS).
	ExecArgv []string `json:"exec_argv"`
	// Listeners is process.listenerCount of SIGTERM, SIGINT, uncaughtException and
	// unhandledRejection.
	Listeners map[string]int `json:"listeners"`
	// Resources is process.getActiveResourcesInfo(): the type names of what keeps the
	// event loop alive ("TCPServerWrap", "Timeout", ...). Nil on Node before 17.3.
	Resources []string `json:"resources"`
	// Handles is the libuv section of process.report.getReport(); nil when the report was
	// not taken (Node without process.report.excludeNetwork).
	Handles []Handle `json:"handles"`
	// CloseScheduled is true when inspector.close() was scheduled.
	CloseScheduled bool `json:"close_scheduled"`
	// Errors maps a part of the query to the error the target gave for it.
	Errors map[string]string `json:"errors"`
}

// Handle is one libuv handle of the target's event loop, as Node's report lists it.
type Handle struct {
	Type       string    `json:"type"`
	Active     bool      `json:"is_active"`
	Referenced *bool     `json:"is_referenced"`
	FD         *int      `json:"fd"`
	Local      *Endpoint `json:"localEndpoint"`
	Remote     *Endpoint `json:"remoteEndpoint"`
	// Repeat and FiresInMS describe a timer.
	Repeat    *int64   `json:"repeat"`
	FiresInMS *float64 `json:"firesInMsFromNow"`
	// PID is a child process's pid; Signum and Signal a signal handle's signal.
	PID    *int   `json:"pid"`
	Signum *int   `json:"signum"`
	Signal string `json:"signal"`
	// Filename is what an fs_event or fs_poll handle watches.
	Filename string `json:"filename"`
	// Name is a pipe's path.
	Name string `json:"pipe"`
}

// Endpoint is a socket address in Node's report.
type Endpoint struct {
	Host string `json:"host"`
	IP4  string `json:"ip4"`
	IP6  string `json:"ip6"`
	Port int    `json:"port"`
}

// String is "ip:port", "[ip6]:port", or "" for a nil endpoint.
func (e *Endpoint) String() string {
	switch {
	case e == nil:
		return ""
	case e.IP4 != "":
		return fmt.Sprintf("%s:%d", e.IP4, e.Port)
	case e.IP6 != "":
		return fmt.Sprintf("[%s]:%d", e.IP6, e.Port)
	case e.Host != "":
		return fmt.Sprintf("%s:%d", e.Host, e.Port)
	}
	return ""
}

// evaluateParams is Runtime.evaluate's parameters for an expression returning a string.
type evaluateParams struct {
	Expression            string `json:"expression"`
	IncludeCommandLineAPI bool   `json:"includeCommandLineAPI"`
	ReturnByValue         bool   `json:"returnByValue"`
	Silent                bool   `json:"silent"`
}

// evaluateResult is Runtime.evaluate's result.
type evaluateResult struct {
	Result struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	} `json:"result"`
	ExceptionDetails *struct {
		Text      string `json:"text"`
		Exception *struct {
			Description string `json:"description"`
		} `json:"exception"`
	} `json:"exceptionDetails"`
}

// ErrNoAnswer is wrapped by Ask when the target did not answer in time.
var ErrNoAnswer = errors.New("the process did not answer")

// Ask evaluates the query in the target. With closeAfter, the same evaluation schedules
// inspector.close(). The query is sent before the context can expire, so a target whose
// loop is stalled still runs it (and the close) once its loop turns again.
func Ask(ctx context.Context, c *Conn, closeAfter bool) (*Answer, error) {
	expr := strings.Replace(queryTemplate, "__CLOSE__", fmt.Sprint(closeAfter), 1)
	var res evaluateResult
	err := c.Call(ctx, "Runtime.evaluate", evaluateParams{Expression: expr, IncludeCommandLineAPI: true, ReturnByValue: true, Silent: true}, &res)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoAnswer, err)
		}
		return nil, err
	}
	if res.ExceptionDetails != nil {
		msg := res.ExceptionDetails.Text
		if res.ExceptionDetails.Exception != nil {
			msg = res.ExceptionDetails.Exception.Description
		}
		return nil, fmt.Errorf("the query threw in the target: %s", msg)
	}
	return decodeAnswer(res.Result.Value)
}

// decodeAnswer reads the JSON string the query returns.
func decodeAnswer(value json.RawMessage) (*Answer, error) {
	var text string
	if err := json.Unmarshal(value, &text); err != nil {
		return nil, fmt.Errorf("the query returned %s, not a JSON string: %w", clip(value), err)
	}
	var a Answer
	if err := json.Unmarshal([]byte(text), &a); err != nil {
		return nil, fmt.Errorf("decode the query's answer %q: %w", clip([]byte(text)), err)
	}
	return &a, nil
}

// ScheduleClose asks the target to close its inspector once the answer is sent. sent is
// true once the request is on its way: the target runs it when its loop turns, even if the
// answer never comes back.
func ScheduleClose(ctx context.Context, c *Conn) (sent bool, err error) {
	id, err := c.Send(ctx, "Runtime.evaluate", evaluateParams{Expression: closeExpression, IncludeCommandLineAPI: true, ReturnByValue: true, Silent: true})
	if err != nil {
		return false, err
	}
	var res evaluateResult
	if err := c.wait(ctx, "Runtime.evaluate", id, &res); err != nil {
		return true, err
	}
	if string(res.Result.Value) != "true" {
		return true, fmt.Errorf("the target could not load its inspector module to close it")
	}
	return true, nil
}

// heapExpression reads the V8 heap used (process.memoryUsage, the number that shows the
// GC's sawtooth) and the heap limit, as a JSON string.
const heapExpression = `(() => { const v8 = (typeof process.getBuiltinModule === 'function') ? process.getBuiltinModule('v8') : require('v8'); return JSON.stringify([process.memoryUsage().heapUsed, v8.getHeapStatistics().heap_size_limit]); })()`

// HeapUsage asks the target for its V8 heap used and limit, in bytes.
func HeapUsage(ctx context.Context, c *Conn) (used, limit uint64, err error) {
	var res evaluateResult
	if err := c.Call(ctx, "Runtime.evaluate", evaluateParams{Expression: heapExpression, IncludeCommandLineAPI: true, ReturnByValue: true, Silent: true}, &res); err != nil {
		if ctx.Err() != nil {
			return 0, 0, fmt.Errorf("%w: %w", ErrNoAnswer, err)
		}
		return 0, 0, err
	}
	var text string
	if err := json.Unmarshal(res.Result.Value, &text); err != nil {
		return 0, 0, fmt.Errorf("heap usage: the target returned %s: %w", clip(res.Result.Value), err)
	}
	var pair [2]uint64
	if err := json.Unmarshal([]byte(text), &pair); err != nil {
		return 0, 0, fmt.Errorf("heap usage: decode %q: %w", clip([]byte(text)), err)
	}
	return pair[0], pair[1], nil
}
