package attach

import (
	"context"
	"errors"
)

// closeNowExpression closes the inspector at once, inside the message's own dispatch on
// the main thread, and disarms the dead-man's switch. Unlike closeExpression (a close
// queued with setImmediate, which waits for the event loop to turn), it also closes the
// inspector of a loop blocked in JavaScript or in Atomics.wait: V8 runs inspector messages
// in an interrupt. Measured on Node 20.20 against a main thread spinning in a while loop:
// the session is ended by the target itself and the listening port is gone within 16 ms
// (64 ms on an idle loop); the process keeps running; while paused by this session it
// closes the same way and the thread resumes. A close with another client connected waits
// for that client to leave (the cleanup disconnects clients while it waits).
const closeNowExpression = `(() => { try { const k = Symbol.for('nodeinspect.deadman'); if (process[k]) { clearTimeout(process[k]); delete process[k]; } const i = (typeof process.getBuiltinModule === 'function') ? process.getBuiltinModule('inspector') : require('inspector'); i.close(); return true; } catch (e) { return false; } })()`

// CloseNow asks the target to close its inspector at once (closeNowExpression). sent is
// true once the request is on its way. The target ends this session as it closes, so the
// end of the connection is the expected answer; it returns when that or an answer comes,
// or ctx ends.
func CloseNow(ctx context.Context, c *Conn) (sent bool, err error) {
	id, err := c.Send(ctx, "Runtime.evaluate", evaluateParams{Expression: closeNowExpression, IncludeCommandLineAPI: true, ReturnByValue: true, Silent: true})
	if err != nil {
		return false, err
	}
	var res evaluateResult
	err = c.wait(ctx, "Runtime.evaluate", id, &res)
	if err == nil && string(res.Result.Value) != "true" {
		// It ran and failed: nothing is queued in the target, so the caller may try again.
		return false, errors.New("the target could not load its inspector module to close it")
	}
	return true, nil // an answer, or the session ended by the close
}
