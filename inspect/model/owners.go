package model

import (
	"fmt"
	"strings"
)

// SocketOwner is the JavaScript owner of a socket fd, found with property reads only.
type SocketOwner struct {
	// Role is "server" (a listening socket), "accepted" (by a server), "client" (an HTTP
	// client request, or a socket in an agent's pool) or "socket".
	Role string `json:"role"`
	// Server is the server ("http.Server on 127.0.0.1:3000") that is or accepted it.
	Server string `json:"server,omitempty"`
	// Request is the HTTP request in flight on it (path without its query string).
	Request *OwnerRequest `json:"request,omitempty"`
	// Agent ("http.globalAgent") and Upstream ("api.example.com:443") name a client
	// socket's pool; Idle is a keep-alive socket waiting in it.
	Agent    string `json:"agent,omitempty"`
	Upstream string `json:"upstream,omitempty"`
	Idle     bool   `json:"idle,omitempty"`
}

// OwnerRequest is an HTTP request in flight on a socket. AgeMS is how long ago it started.
// While the request is still being received it is exact: Node's HTTP parser (Node 18+)
// keeps the time of its first byte. Once the whole request has arrived the parser forgets
// that time, and AgeMS is then the kernel's time since data last arrived on the connection
// (tcp_info's tcpi_last_data_recv, read through sock_diag): when the request's last byte
// came, so the request is at least that old, and AgeAtLeast is set. Nil when neither is
// known (the connection is in another network namespace, or sock_diag failed).
type OwnerRequest struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	AgeMS  *int64 `json:"age_ms"`
	// AgeAtLeast marks an AgeMS that is a lower bound (the time since the request arrived
	// in full), not the time since it started.
	AgeAtLeast bool `json:"age_at_least,omitempty"`
}

// String is "POST /upload".
func (r *OwnerRequest) String() string { return r.Method + " " + r.Path }

// withAge is "POST /upload (12 s)" when the age is known, else String.
func (r *OwnerRequest) withAge() string {
	if r.AgeMS == nil {
		return r.String()
	}
	return r.String() + " (" + r.ageText() + ")"
}

// ageText is "42 s", or "≥ 42 s" for a lower bound.
func (r *OwnerRequest) ageText() string {
	if r.AgeAtLeast {
		return "≥ " + AgeWords(*r.AgeMS)
	}
	return AgeWords(*r.AgeMS)
}

// AgeWords is a request's age: "350 ms", "42 s", "12 min", "3.5 h".
func AgeWords(ms int64) string {
	switch {
	case ms < 1000:
		return fmt.Sprintf("%d ms", ms)
	case ms < 120_000:
		return fmt.Sprintf("%d s", ms/1000)
	case ms < 120*60_000:
		return fmt.Sprintf("%d min", ms/60_000)
	}
	return fmt.Sprintf("%.1f h", float64(ms)/3_600_000)
}

// String is the owner in a few words: "http.Server on :3000, POST /upload".
func (o *SocketOwner) String() string {
	var parts []string
	switch {
	case o.Role == "accepted" && o.Server != "":
		parts = append(parts, "accepted by "+o.Server)
	case o.Role == "server" && o.Server != "":
		parts = append(parts, o.Server)
	case o.Agent != "":
		parts = append(parts, o.Agent+" to "+o.Upstream)
	case o.Upstream != "":
		parts = append(parts, "client of "+o.Upstream)
	}
	if o.Request != nil {
		parts = append(parts, o.Request.withAge())
	}
	if o.Idle {
		parts = append(parts, "idle")
	}
	return strings.Join(parts, ", ")
}
