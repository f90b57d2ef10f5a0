package attach

// This file is the only one that imports the WebSocket library: a version change of
// github.com/coder/websocket touches nothing else.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"syscall"

	"github.com/coder/websocket"
	"golang.org/x/sys/unix"
)

// maxMessageBytes bounds one reply of the inspector. The query returns a few kilobytes per
// libuv handle; 64 MiB fits a process with a hundred thousand handles and still stops a
// runaway reply from exhausting our memory on a sick machine.
const maxMessageBytes = 64 << 20

// Conn is one Chrome DevTools Protocol session over the inspector's WebSocket. It is used
// from one goroutine at a time: there is no background reader, so events are read while a
// command waits for its answer (Call) or by NextEvent, and only events someone subscribed
// to are kept.
type Conn struct {
	ws     *websocket.Conn
	nextID int64
	// raw is the TCP connection under the WebSocket (DupSocket hands a copy of it on).
	raw net.Conn
	// outstanding are the ids of commands sent whose answer has not been read yet.
	outstanding map[int64]bool
	// msgs carries the messages read by the reader goroutine; a read that times out
	// leaves the connection open (a websocket read cancelled by its context closes it).
	msgs chan inbound
	// handlers are called with each event of their method as it is read; queued holds
	// events of subscribed methods that have no handler, for NextEvent.
	handlers map[string]func(Event)
	queue    map[string]bool
	queued   []Event
}

// inbound is one message read from the inspector, or the error that ended reading.
type inbound struct {
	data []byte
	err  error
}

// readLoop reads every message of the connection into msgs until it fails (Close).
func (c *Conn) readLoop() {
	for {
		_, data, err := c.ws.Read(context.Background())
		c.msgs <- inbound{data, err}
		if err != nil {
			close(c.msgs)
			return
		}
	}
}

// Event is one protocol event: a message without an id.
type Event struct {
	Method string
	Params json.RawMessage
	// SessionID is set on events of a child session (a worker's, through NodeWorker).
	SessionID string
}

// errClosed is returned by reads after the connection failed or was closed.
var errClosed = fmt.Errorf("inspector session closed")

// maxQueuedEvents bounds the events kept for NextEvent: a subscriber that stops reading
// loses the oldest rather than exhausting our memory.
const maxQueuedEvents = 10000

// Subscribe asks for the events of method: fn is called with each as it is read (from
// inside Call or NextEvent, on the caller's goroutine); a nil fn queues them for NextEvent.
// Events of methods nobody subscribed to are dropped.
func (c *Conn) Subscribe(method string, fn func(Event)) {
	if fn != nil {
		if c.handlers == nil {
			c.handlers = map[string]func(Event){}
		}
		c.handlers[method] = fn
		return
	}
	if c.queue == nil {
		c.queue = map[string]bool{}
	}
	c.queue[method] = true
}

// NextEvent returns the next queued event of a method subscribed with a nil handler,
// reading messages until one comes (answers to commands sent with Send are dropped).
func (c *Conn) NextEvent(ctx context.Context) (Event, error) {
	for {
		if len(c.queued) > 0 {
			ev := c.queued[0]
			c.queued = c.queued[1:]
			return ev, nil
		}
		if _, err := c.read(ctx); err != nil {
			return Event{}, fmt.Errorf("wait for an event: %w", err)
		}
	}
}

// Pump reads one message and dispatches it if it is an event (an answer to a command sent
// with Send is dropped): for a caller that waits on what its handlers collect.
func (c *Conn) Pump(ctx context.Context) error {
	_, err := c.read(ctx)
	return err
}

// read reads one message: an event is dispatched (and nil returned), an answer returned.
func (c *Conn) read(ctx context.Context) (*cdpReply, error) {
	var data []byte
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case m, ok := <-c.msgs:
		if !ok {
			return nil, errClosed
		}
		if m.err != nil {
			return nil, m.err
		}
		data = m.data
	}
	var r cdpReply
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode a message of the inspector: %w", err)
	}
	if r.ID != 0 || r.Method == "" {
		delete(c.outstanding, r.ID)
		return &r, nil
	}
	ev := Event{Method: r.Method, Params: r.Params, SessionID: r.SessionID}
	if fn := c.handlers[r.Method]; fn != nil {
		fn(ev)
	} else if c.queue[r.Method] {
		if len(c.queued) >= maxQueuedEvents {
			c.queued = c.queued[1:]
		}
		c.queued = append(c.queued, ev)
	}
	return nil, nil
}

// Dialer opens a TCP connection to the inspector; nil means net.Dialer. It exists so a
// connection can be made from inside the target's network namespace.
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// Dial opens a session on the WebSocket URL of a target listed by /json/list.
func Dial(ctx context.Context, url string, dial Dialer) (*Conn, error) {
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	var raw net.Conn
	capture := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err == nil {
			raw = c
		}
		return c, err
	}
	opts := &websocket.DialOptions{HTTPClient: httpClient(capture)}
	ws, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, fmt.Errorf("open inspector session %s: %w", url, err)
	}
	ws.SetReadLimit(maxMessageBytes)
	c := &Conn{ws: ws, raw: raw, msgs: make(chan inbound, 64), outstanding: map[int64]bool{}}
	go c.readLoop()
	return c, nil
}

// DupSocket returns a copy of the session's TCP socket (a close-on-exec file descriptor
// the caller closes with unix.Close), for a process that is to keep the connection open
// after this one is gone: the socket stays connected until every copy is closed, so the
// inspector sees no client leave while a copy lives. It is a bare descriptor, not an
// os.File: os.File.Fd would put the shared socket, and so the session, in blocking mode.
func (c *Conn) DupSocket() (int, error) {
	sc, ok := c.raw.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("the inspector session's connection (%T) has no socket to copy", c.raw)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("copy the inspector session's socket: %w", err)
	}
	var dup int
	var dupErr error
	if err := rc.Control(func(fd uintptr) {
		dup, dupErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, fmt.Errorf("copy the inspector session's socket: %w", err)
	}
	if dupErr != nil {
		return -1, fmt.Errorf("copy the inspector session's socket (fcntl F_DUPFD_CLOEXEC): %w", dupErr)
	}
	return dup, nil
}

// Pending reports whether a command was sent whose answer has not been read: a client
// that leaves now may crash Node 20's inspector (see the closer).
func (c *Conn) Pending() bool { return len(c.outstanding) > 0 }

// cdpRequest is one protocol command.
type cdpRequest struct {
	ID     int64  `json:"id"`
	Method string `json:"method"`
	Params any    `json:"params,omitempty"`
}

// cdpReply is a command's answer, or an event (no id, a method and its params).
type cdpReply struct {
	ID        int64           `json:"id"`
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params"`
	SessionID string          `json:"sessionId"`
	Result    json.RawMessage `json:"result"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Send writes a command without waiting for its answer and returns its id.
func (c *Conn) Send(ctx context.Context, method string, params any) (int64, error) {
	c.nextID++
	msg, err := json.Marshal(cdpRequest{ID: c.nextID, Method: method, Params: params})
	if err != nil {
		return 0, fmt.Errorf("encode %s: %w", method, err)
	}
	// Counted before the write: a write cut short may still have reached the target.
	c.outstanding[c.nextID] = true
	if err := c.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		return 0, fmt.Errorf("send %s: %w", method, err)
	}
	return c.nextID, nil
}

// Call sends a command and decodes the result of its answer into result, skipping events.
func (c *Conn) Call(ctx context.Context, method string, params, result any) error {
	id, err := c.Send(ctx, method, params)
	if err != nil {
		return err
	}
	return c.wait(ctx, method, id, result)
}

// wait reads messages until the answer to command id, and decodes its result. Events read
// meanwhile go to their subscribers.
func (c *Conn) wait(ctx context.Context, method string, id int64, result any) error {
	for {
		r, err := c.read(ctx)
		if err != nil {
			return fmt.Errorf("wait for the answer to %s: %w", method, err)
		}
		if r == nil || r.ID != id {
			continue
		}
		if r.Error != nil {
			return fmt.Errorf("%s: inspector error %d: %s", method, r.Error.Code, r.Error.Message)
		}
		if result == nil {
			return nil
		}
		if err := json.Unmarshal(r.Result, result); err != nil {
			return fmt.Errorf("decode the result of %s: %w", method, err)
		}
		return nil
	}
}

// Close ends the session. It does not wait for the inspector's side of the close
// handshake: a target whose loop stalled may never send it.
func (c *Conn) Close() error {
	return c.ws.CloseNow()
}

// httpClient is an HTTP client whose connections are made by dial.
func httpClient(dial Dialer) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
}
