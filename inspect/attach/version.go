package attach

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Version is the inspector's /json/version answer.
type Version struct {
	// Browser is "node.js/v20.20.2" for Node's inspector.
	Browser  string `json:"Browser"`
	Protocol string `json:"Protocol-Version"`
}

// maxVersionBytes bounds the /json/version reply (Node's is under 100 bytes).
const maxVersionBytes = 64 << 10

// ProbeVersion asks addr for /json/version and returns its answer when it is Node's
// inspector (Browser "node.js/..."), ErrNotInspector when something else answers. It is
// how an inspector already open is found whatever its port: a random port
// (--inspect=127.0.0.1:0) or a command line rewritten by process.title.
func ProbeVersion(ctx context.Context, addr string, dial Dialer) (Version, error) {
	url := "http://" + addr + "/json/version"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Version{}, fmt.Errorf("probe %s: %w", url, err)
	}
	resp, err := httpClient(dial).Do(req)
	if err != nil {
		return Version{}, fmt.Errorf("probe %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxVersionBytes))
	if err != nil {
		return Version{}, fmt.Errorf("read %s: %w", url, err)
	}
	v, err := ParseVersion(body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return Version{}, fmt.Errorf("%s answered %s %q: %w", url, resp.Status, clip(body), ErrNotInspector)
	}
	return v, nil
}

// ParseVersion decodes a /json/version body; it fails unless Browser names node.js.
func ParseVersion(body []byte) (Version, error) {
	var v Version
	if err := json.Unmarshal(body, &v); err != nil {
		return Version{}, fmt.Errorf("decode /json/version %q: %w", clip(body), err)
	}
	if !strings.HasPrefix(strings.ToLower(v.Browser), "node.js/") {
		return Version{}, fmt.Errorf("/json/version names %q, not node.js: %w", v.Browser, ErrNotInspector)
	}
	return v, nil
}
