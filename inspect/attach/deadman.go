package attach

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// deadmanTemplate arms the dead-man's switch in the target: the first message nodeinspect
// sends after connecting. If nodeinspect and its closer both die, the inspector on __PORT__
// closes itself __MS__ ms after this message, as soon as no session is connected (an
// inspector.close() with a client connected blocks the target's main thread until the
// client leaves, measured on Node 20: so it never closes while one is). Sessions are
// counted from /proc/self/net/tcp and tcp6: ESTABLISHED rows whose local port is the
// inspector's are the inspector's accepted connections.
//
// It keeps one unref'd timer (it never keeps the process alive) under a registry symbol
// on process, so a later message re-arms it and the close expression disarms it; nothing
// is left once the inspector is closed. Every step is guarded: it never throws in the target.
const deadmanTemplate = `(() => {
  try {
    const k = Symbol.for('nodeinspect.deadman');
    const prev = process[k];
    if (prev) { clearTimeout(prev); delete process[k]; }
    const ms = __MS__, port = __PORT__;
    if (!(ms > 0)) return 'disarmed';
    const fire = () => {
      try {
        delete process[k];
        const builtin = (n) => (typeof process.getBuiltinModule === 'function') ? process.getBuiltinModule(n) : require(n);
        const inspector = builtin('inspector');
        const url = inspector.url();
        if (!url || Number(new URL(url).port) !== port) return;
        const hex = port.toString(16).toUpperCase().padStart(4, '0');
        let sessions = 0;
        for (const f of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
          let text = '';
          try { text = builtin('fs').readFileSync(f, 'latin1'); } catch (e) { continue; }
          for (const line of text.split('\n')) {
            const c = line.trim().split(/\s+/);
            if (c.length > 3 && c[3] === '01' && c[1].endsWith(':' + hex)) sessions++;
          }
        }
        if (sessions > 0) { const t = setTimeout(fire, 1000); t.unref(); process[k] = t; return; }
        inspector.close();
      } catch (e) {}
    };
    const t = setTimeout(fire, ms);
    t.unref();
    process[k] = t;
    return 'armed';
  } catch (e) { return 'error: ' + String((e && e.message) || e); }
})()`

// DeadmanExpression is the expression that arms the switch for ms milliseconds (0
// disarms) for the inspector on port. Arming loads nothing in the target (the inspector
// and fs modules are loaded only when the timer fires), so it does not move the heap
// figures the query reads right after.
func DeadmanExpression(ms int64, port int) string {
	e := strings.Replace(deadmanTemplate, "__MS__", strconv.FormatInt(ms, 10), 1)
	return strings.Replace(e, "__PORT__", strconv.Itoa(port), 1)
}

// ArmDeadman sends the dead-man's switch (see deadmanTemplate) and waits for its answer. It
// is sent before anything else on a new session, so even a session that dies right after
// leaves the switch armed once the target reads the message.
func ArmDeadman(ctx context.Context, c *Conn, ms int64, port int) error {
	var res evaluateResult
	if err := c.Call(ctx, "Runtime.evaluate", evaluateParams{Expression: DeadmanExpression(ms, port), IncludeCommandLineAPI: true, ReturnByValue: true, Silent: true}, &res); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", ErrNoAnswer, err)
		}
		return err
	}
	switch v := strings.Trim(string(res.Result.Value), `"`); {
	case v == "armed" || v == "disarmed":
		return nil
	default:
		return fmt.Errorf("the target could not arm the inspector's dead-man's switch: %s", clip(res.Result.Value))
	}
}
