package attach

import (
	"context"
	"encoding/json"
	"fmt"
)

// ownersExpression finds the JavaScript owner of each socket fd with property reads only
// (and instanceof): the handles Node keeps (process._getActiveHandles, a copy of its
// list), each net.Socket's fd (_handle.fd), the server that accepted it (socket.server,
// its listening fd, and its _connectionKey "4:127.0.0.1:0" as asked of listen), the HTTP message in flight on it
// (socket._httpMessage: a ServerResponse with its request, or a ClientRequest), and the
// keep-alive pools of the global http and https agents (agent.sockets / freeSockets,
// keyed by "host:port:"), and the age of a request still being received (the native
// duration() of Node's own HTTP parser, see ageOf). It defines nothing and calls no method
// of the app's objects;
// every access is guarded, and the answer is one JSON string.
const ownersExpression = `(() => {
  const out = { sockets: [], errors: [] };
  const guard = (fn) => { try { return fn(); } catch (e) { out.errors.push(String((e && e.message) || e)); return undefined; } };
  const builtin = (n) => (typeof process.getBuiltinModule === 'function') ? process.getBuiltinModule(n) : require(n);
  const http = guard(() => builtin('http'));
  const https = guard(() => builtin('https'));
  const clip = (s) => typeof s === 'string' ? s.slice(0, 200) : undefined;
  const pathOf = (u) => typeof u === 'string' ? clip(u.split('?')[0]) : undefined;
  // ageOf is how long ago the request on socket so started, in ms, while Node still keeps
  // that time: the server's HTTP parser (socket.parser, Node 18+) records the time of a
  // message's first byte and its native duration() (what the server's requestTimeout
  // checks) returns the time since; once the whole request has arrived the parser forgets
  // it (duration() is 0). Only a native duration() is called (it reads a clock and a field),
  // and only for the request the parser is still reading (incoming === req, not complete).
  const nativeFn = (f) => typeof f === 'function' && /\[native code\]\s*\}$/.test(Function.prototype.toString.call(f));
  const ageOf = (so, req) => guard(() => {
    const p = so.parser;
    if (!p || typeof p !== 'object' || p.incoming !== req || req.complete !== false) return undefined;
    const duration = p.duration;
    if (!nativeFn(duration)) return undefined;
    const ms = Reflect.apply(duration, p, []);
    return (typeof ms === 'number' && ms > 0 && Number.isFinite(ms)) ? Math.round(ms) : undefined;
  });
  const serverKind = (srv) => guard(() => (https && srv instanceof https.Server) ? 'https.Server' : (http && srv instanceof http.Server) ? 'http.Server' : 'net.Server');
  const agentOf = new Map();
  for (const [name, mod] of [['http', http], ['https', https]]) {
    const agent = mod && guard(() => mod.globalAgent);
    if (!agent) continue;
    for (const pool of ['sockets', 'freeSockets']) {
      const byName = guard(() => agent[pool]) || {};
      for (const key of Object.keys(byName)) {
        const list = byName[key];
        if (!Array.isArray(list)) continue;
        for (const s of list) agentOf.set(s, { agent: name + '.globalAgent', upstream: clip(key.replace(/:+$/, '')), idle: pool === 'freeSockets' });
      }
    }
  }
  const handles = guard(() => typeof process._getActiveHandles === 'function' ? process._getActiveHandles() : []) || [];
  for (const h of handles) {
    guard(() => {
      const fd = h && h._handle && h._handle.fd;
      if (typeof fd !== 'number' || fd < 0) return;
      const o = { fd };
      if (typeof h._connectionKey === 'string') {
        o.role = 'server'; o.server = serverKind(h); o.listen = clip(h._connectionKey);
      } else if (h.server) {
        o.role = 'accepted'; o.server = serverKind(h.server); o.listen = clip(h.server._connectionKey);
        const sfd = h.server._handle && h.server._handle.fd;
        if (typeof sfd === 'number' && sfd >= 0) o.server_fd = sfd;
      } else {
        o.role = 'socket';
      }
      const m = h._httpMessage;
      if (m) {
        const req = m.req;
        if (req && typeof req.method === 'string' && o.role === 'accepted') {
          o.request = { method: clip(req.method), path: pathOf(req.url), age_ms: ageOf(h, req) };
        } else if (typeof m.method === 'string') {
          o.role = 'client';
          o.request = { method: clip(m.method), path: pathOf(m.path) };
          if (typeof m.host === 'string') o.upstream = clip(m.host);
        }
      } else if (o.role === 'accepted' && h.parser && h.parser.incoming && typeof h.parser.incoming.method === 'string') {
        o.request = { method: clip(h.parser.incoming.method), path: pathOf(h.parser.incoming.url), age_ms: ageOf(h, h.parser.incoming) };
      }
      const a = agentOf.get(h);
      if (a) { o.role = 'client'; o.agent = a.agent; o.upstream = o.upstream || a.upstream; o.idle = a.idle; }
      if (!o.upstream && o.role !== 'accepted' && o.role !== 'server' && typeof h._host === 'string') o.upstream = clip(h._host);
      out.sockets.push(o);
    });
  }
  return JSON.stringify(out);
})()`

// Owner is the JavaScript owner of one socket fd.
type Owner struct {
	FD int `json:"fd"`
	// Role is "server" (a listening socket), "accepted" (by a server), "client" (an HTTP
	// client request or a socket of an agent's pool) or "socket".
	Role string `json:"role"`
	// Server is "http.Server", "https.Server" or "net.Server"; Listen its connection key
	// ("4:127.0.0.1:3000", "6::::3000").
	Server string `json:"server"`
	Listen string `json:"listen"`
	// ServerFD is the listening socket's fd of the server that accepted it (nil when
	// unknown): its real address is read from the fd table.
	ServerFD *int `json:"server_fd"`
	// Request is the HTTP request in flight on the socket.
	Request *struct {
		Method string `json:"method"`
		Path   string `json:"path"`
		// AgeMS is how long ago the request started, while it is still being received
		// (nil once it has arrived in full: Node keeps no start time then).
		AgeMS *int64 `json:"age_ms"`
	} `json:"request"`
	// Agent ("http.globalAgent") and Upstream ("api.example.com:443") name a client
	// socket's pool; Idle is a keep-alive socket waiting in it.
	Agent    string `json:"agent"`
	Upstream string `json:"upstream"`
	Idle     bool   `json:"idle"`
}

// Owners is the answer of ownersExpression.
type Owners struct {
	Sockets []Owner  `json:"sockets"`
	Errors  []string `json:"errors"`
}

// SocketOwners asks the target who owns its socket fds.
func SocketOwners(ctx context.Context, c *Conn) (*Owners, error) {
	var res evaluateResult
	if err := c.Call(ctx, "Runtime.evaluate", evaluateParams{Expression: ownersExpression, IncludeCommandLineAPI: true, ReturnByValue: true, Silent: true}, &res); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoAnswer, err)
		}
		return nil, err
	}
	return decodeOwners(res.Result.Value)
}

// decodeOwners reads the JSON string ownersExpression returns.
func decodeOwners(value json.RawMessage) (*Owners, error) {
	var text string
	if err := json.Unmarshal(value, &text); err != nil {
		return nil, fmt.Errorf("socket owners: the target returned %s: %w", clip(value), err)
	}
	var o Owners
	if err := json.Unmarshal([]byte(text), &o); err != nil {
		return nil, fmt.Errorf("socket owners: decode %q: %w", clip([]byte(text)), err)
	}
	return &o, nil
}
