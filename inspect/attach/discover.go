// Package attach talks to a Node.js process through its inspector (the Chrome DevTools
// Protocol on a loopback port): it finds the session's WebSocket URL, asks the process one
// question that gathers everything nodeinspect needs, and schedules the inspector's close.
// It knows nothing of /proc; the inspect package decides whether attaching is safe and
// cleans up after it.
package attach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Target is one debuggable context listed by the inspector's /json/list.
type Target struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
	// WebSocketURL is where a session is opened ("ws://127.0.0.1:9229/<id>"). It is
	// missing when another client holds an exclusive session.
	WebSocketURL string `json:"webSocketDebuggerUrl"`
}

// maxListBytes bounds the /json/list reply: a Node.js process lists one target.
const maxListBytes = 1 << 20

// ErrNotInspector is returned when the port answers but not as Node's inspector.
var ErrNotInspector = errors.New("not a Node.js inspector")

// ListTargets asks the inspector at addr ("127.0.0.1:9229") for its targets and returns
// the first that can be attached to.
func ListTargets(ctx context.Context, addr string, dial Dialer) (Target, error) {
	url := "http://" + addr + "/json/list"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Target{}, fmt.Errorf("list inspector targets %s: %w", url, err)
	}
	resp, err := httpClient(dial).Do(req)
	if err != nil {
		return Target{}, fmt.Errorf("list inspector targets: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxListBytes))
	if err != nil {
		return Target{}, fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Target{}, fmt.Errorf("%s answered %s: %w", url, resp.Status, ErrNotInspector)
	}
	var targets []Target
	if err := json.Unmarshal(body, &targets); err != nil {
		return Target{}, fmt.Errorf("%s answered %q: %w", url, clip(body), ErrNotInspector)
	}
	for _, t := range targets {
		if strings.HasPrefix(t.WebSocketURL, "ws://") {
			return t, nil
		}
	}
	if len(targets) > 0 {
		return Target{}, fmt.Errorf("%s lists %d targets but none can be attached to (another debugger holds the session)", url, len(targets))
	}
	return Target{}, fmt.Errorf("%s lists no targets: %w", url, ErrNotInspector)
}

// clip shortens a reply for an error message.
func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "..."
	}
	return string(b)
}
