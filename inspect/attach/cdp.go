package attach

// This file is the only one that imports the WebSocket library: a version change of
// github.com/coder/websocket touches nothing else.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"

	"github.com/coder/websocket"
)

// maxMessageBytes bounds one reply of the inspector. The query returns a few kilobytes per
// libuv handle; 64 MiB fits a process with a hundred thousand handles and still stops a
// runaway reply from exhausting our memory on a sick machine.
const maxMessageBytes = 64 << 20

// Conn is one Chrome DevTools Protocol session over the inspector's WebSocket.
type Conn struct {
	ws     *websocket.Conn
	nextID int64
}

// Dialer opens a TCP connection to the inspector; nil means net.Dialer. It exists so a
// connection can be made from inside the target's network namespace.
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// Dial opens a session on the WebSocket URL of a target listed by /json/list.
func Dial(ctx context.Context, url string, dial Dialer) (*Conn, error) {
	opts := &websocket.DialOptions{HTTPClient: httpClient(dial)}
	ws, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, fmt.Errorf("open inspector session %s: %w", url, err)
	}
	ws.SetReadLimit(maxMessageBytes)
	return &Conn{ws: ws}, nil
}

// cdpRequest is one protocol command.
type cdpRequest struct {
	ID     int64  `json:"id"`
	Method string `json:"method"`
	Params any    `json:"params,omitempty"`
}

// cdpReply is a command's answer, or an event (no id) which Call skips.
type cdpReply struct {
	ID     int64           `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
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

// wait reads messages until the answer to command id, and decodes its result.
func (c *Conn) wait(ctx context.Context, method string, id int64, result any) error {
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			return fmt.Errorf("wait for the answer to %s: %w", method, err)
		}
		var r cdpReply
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("decode the answer to %s: %w", method, err)
		}
		if r.ID != id {
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
	if dial == nil {
		return &http.Client{}
	}
	return &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
}
