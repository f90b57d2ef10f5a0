package attach

import (
	"context"
	"encoding/json"
	"fmt"
)

// HeapSpace is one entry of v8.getHeapSpaceStatistics(), bytes.
type HeapSpace struct {
	// Name is V8's space name: "new_space", "old_space", "code_space", "map_space" (V8
	// before 11), "large_object_space", "code_large_object_space",
	// "new_large_object_space", "shared_space", "read_only_space", ...
	Name string `json:"space_name"`
	// Size is space_size: what the space has reserved for its pages.
	Size uint64 `json:"space_size"`
	// Used is space_used_size: the size of the objects in it.
	Used uint64 `json:"space_used_size"`
	// Available is space_available_size.
	Available uint64 `json:"space_available_size"`
}

// HeapReading is what one watch sample asks of the V8 heap.
type HeapReading struct {
	// Used is process.memoryUsage().heapUsed; Limit is heap_size_limit, bytes.
	Used, Limit uint64
	// Spaces is v8.getHeapSpaceStatistics() (nil when the target could not tell).
	Spaces []HeapSpace
	// ExecArgv is process.execArgv (nil when the target could not tell).
	ExecArgv []string
}

// heapReadingExpression reads the heap used, its limit, the spaces and the options node
// was started with, as a JSON string. The spaces and execArgv are guarded: a target that
// cannot give them still answers with the two numbers.
const heapReadingExpression = `(() => { const v8 = (typeof process.getBuiltinModule === 'function') ? process.getBuiltinModule('v8') : require('v8'); let spaces = null, argv = null; try { spaces = v8.getHeapSpaceStatistics(); } catch (e) {} try { argv = process.execArgv; } catch (e) {} return JSON.stringify({ used: process.memoryUsage().heapUsed, limit: v8.getHeapStatistics().heap_size_limit, spaces: spaces, exec_argv: argv }); })()`

// ReadHeap asks the target for its V8 heap used, limit and spaces.
func ReadHeap(ctx context.Context, c *Conn) (*HeapReading, error) {
	var res evaluateResult
	if err := c.Call(ctx, "Runtime.evaluate", evaluateParams{Expression: heapReadingExpression, IncludeCommandLineAPI: true, ReturnByValue: true, Silent: true}, &res); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoAnswer, err)
		}
		return nil, err
	}
	if res.ExceptionDetails != nil {
		return nil, fmt.Errorf("heap reading: the expression threw in the target: %s", res.ExceptionDetails.Text)
	}
	return decodeHeapReading(res.Result.Value)
}

// decodeHeapReading reads the JSON string heapReadingExpression returns.
func decodeHeapReading(value json.RawMessage) (*HeapReading, error) {
	var text string
	if err := json.Unmarshal(value, &text); err != nil {
		return nil, fmt.Errorf("heap reading: the target returned %s: %w", clip(value), err)
	}
	var raw struct {
		Used     *uint64     `json:"used"`
		Limit    *uint64     `json:"limit"`
		Spaces   []HeapSpace `json:"spaces"`
		ExecArgv []string    `json:"exec_argv"`
	}
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, fmt.Errorf("heap reading: decode %q: %w", clip([]byte(text)), err)
	}
	if raw.Used == nil || raw.Limit == nil {
		return nil, fmt.Errorf("heap reading: %q lacks the heap used or its limit", clip([]byte(text)))
	}
	return &HeapReading{Used: *raw.Used, Limit: *raw.Limit, Spaces: raw.Spaces, ExecArgv: raw.ExecArgv}, nil
}
