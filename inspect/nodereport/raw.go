package nodereport

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// The undecoded shapes of a report, and the tolerant JSON values they are read with.

// parseError is an error with its own text that still matches its sentinels and causes
// under errors.Is and errors.As.
type parseError struct {
	msg  string
	errs []error
}

func (e *parseError) Error() string   { return e.msg }
func (e *parseError) Unwrap() []error { return e.errs }

// rawReport holds the sections Parse reads, undecoded. Everything else (nativeStack,
// workers, sharedObjects...) is skipped without being kept.
type rawReport struct {
	Header          json.RawMessage `json:"header"`
	JavascriptStack json.RawMessage `json:"javascriptStack"`
	JavascriptHeap  json.RawMessage `json:"javascriptHeap"`
	ResourceUsage   json.RawMessage `json:"resourceUsage"`
	Libuv           json.RawMessage `json:"libuv"`
	UserLimits      json.RawMessage `json:"userLimits"`
	// EnvironmentVariables is read for NODE_OPTIONS only.
	EnvironmentVariables json.RawMessage `json:"environmentVariables"`
}

type rawHeader struct {
	ReportVersion json.RawMessage `json:"reportVersion"`
	Event         json.RawMessage `json:"event"`
	Trigger       json.RawMessage `json:"trigger"`
	Location      json.RawMessage `json:"location"` // before "trigger" existed
	DumpEventTime json.RawMessage `json:"dumpEventTime"`
	ProcessID     json.RawMessage `json:"processId"`
	CommandLine   json.RawMessage `json:"commandLine"`
	NodejsVersion json.RawMessage `json:"nodejsVersion"`
	Platform      json.RawMessage `json:"platform"`
}

type rawStack struct {
	Message         json.RawMessage `json:"message"`
	Stack           json.RawMessage `json:"stack"`
	ErrorProperties json.RawMessage `json:"errorProperties"`
}

type rawHeap struct {
	TotalMemory     json.RawMessage `json:"totalMemory"`
	UsedMemory      json.RawMessage `json:"usedMemory"`
	MemoryLimit     json.RawMessage `json:"memoryLimit"`
	AvailableMemory json.RawMessage `json:"availableMemory"`
	ExternalMemory  json.RawMessage `json:"externalMemory"`
	HeapSpaces      json.RawMessage `json:"heapSpaces"`
}

type rawUsage struct {
	RSS    json.RawMessage `json:"rss"`
	MaxRSS json.RawMessage `json:"maxRss"`
}

type rawLimit struct {
	Soft json.RawMessage `json:"soft"`
	Hard json.RawMessage `json:"hard"`
}

// rawHandle is one libuv entry. Its fields parse themselves from the bytes the decoder
// hands them, so that a report with many thousands of handles is read in one pass
// without a copy of every value.
type rawHandle struct {
	Type                jsonType     `json:"type"`
	IsActive            jsonFlag     `json:"is_active"`
	IsReferenced        jsonFlag     `json:"is_referenced"`
	FD                  jsonInt      `json:"fd"`
	LocalEndpoint       jsonEndpoint `json:"localEndpoint"`
	RemoteEndpoint      jsonEndpoint `json:"remoteEndpoint"`
	Repeat              jsonInt      `json:"repeat"`
	FiresInMsFromNow    jsonInt      `json:"firesInMsFromNow"`
	Expired             jsonFlag     `json:"expired"`
	PID                 jsonInt      `json:"pid"`
	Signum              jsonInt      `json:"signum"`
	Signal              jsonString   `json:"signal"`
	Filename            jsonString   `json:"filename"`
	Width               jsonInt      `json:"width"`
	Height              jsonInt      `json:"height"`
	Stdio               jsonString   `json:"stdio"`
	LoopIdleTimeSeconds jsonFloat    `json:"loopIdleTimeSeconds"`
	Details             jsonString   `json:"details"` // reports before PR #26019
}

// jsonString is a JSON string; ok is false for anything else, set for anything but
// absent or null.
type jsonString struct {
	s       string
	ok, set bool
}

// UnmarshalJSON reads a jsonString; it never fails, an unreadable value is left unset.
func (v *jsonString) UnmarshalJSON(b []byte) error {
	*v = jsonString{}
	if present(b) {
		v.set = true
		v.s, v.ok = text(b)
	}
	return nil
}

// jsonType is a handle type, libuv's names kept without an allocation each.
type jsonType struct{ s string }

// UnmarshalJSON reads a jsonType; it never fails, an unreadable value is left unset.
func (v *jsonType) UnmarshalJSON(b []byte) error {
	if len(b) > 2 && b[0] == '"' && b[len(b)-1] == '"' {
		for _, name := range handleTypes {
			if string(b[1:len(b)-1]) == name {
				v.s = name
				return nil
			}
		}
	}
	v.s, _ = text(b)
	return nil
}

var handleTypes = [...]string{"tcp", "udp", "pipe", "tty", "timer", "process", "signal", "fs_event", "fs_poll",
	"async", "check", "idle", "prepare", "poll", "loop"}

// jsonFlag is a flag: true, 1, or "1" / "true" in the oldest reports.
type jsonFlag bool

// UnmarshalJSON reads a jsonFlag; it never fails, an unreadable value is left unset.
func (v *jsonFlag) UnmarshalJSON(b []byte) error {
	*v = jsonFlag(boolean(b))
	return nil
}

// jsonInt is an integer, possibly negative, from a JSON number or numeric string.
type jsonInt struct {
	v       int64
	ok, set bool
}

// UnmarshalJSON reads a jsonInt; it never fails, an unreadable value is left unset.
func (v *jsonInt) UnmarshalJSON(b []byte) error {
	*v = jsonInt{}
	if present(b) {
		v.set = true
		v.v, v.ok = signed(b)
	}
	return nil
}

// jsonFloat is a non-negative JSON number or numeric string.
type jsonFloat struct {
	v  float64
	ok bool
}

// UnmarshalJSON reads a jsonFloat; it never fails, an unreadable value is left unset.
func (v *jsonFloat) UnmarshalJSON(b []byte) error {
	*v = jsonFloat{}
	f, err := strconv.ParseFloat(numberText(b), 64)
	if err == nil && f >= 0 && f <= 1e15 {
		v.v, v.ok = f, true
	}
	return nil
}

// jsonEndpoint is a libuv endpoint, formatted when decoded: {host, ip4 | ip6, port} of
// tcp and udp handles as "ip:port" (the address when the report has one, version 4 and
// later, else host), or the plain string of a pipe. null, absent or unreadable give "".
type jsonEndpoint struct{ s string }

// UnmarshalJSON reads a jsonEndpoint; it never fails, an unreadable value is left unset.
func (v *jsonEndpoint) UnmarshalJSON(b []byte) error {
	v.s = ""
	if s, ok := text(b); ok {
		v.s = s
		return nil
	}
	if !isObject(b) {
		return nil
	}
	var host, ip4, ip6, port []byte
	flat := eachField(b, func(key, val []byte) {
		switch string(key) {
		case `"host"`:
			host = val
		case `"ip4"`:
			ip4 = val
		case `"ip6"`:
			ip6 = val
		case `"port"`:
			port = val
		}
	})
	if !flat { // escaped keys or nested values: let encoding/json sort it out
		var e struct{ Host, IP4, IP6, Port json.RawMessage }
		if json.Unmarshal(b, &e) != nil {
			return nil
		}
		host, ip4, ip6, port = e.Host, e.IP4, e.IP6, e.Port
	}
	addr, _ := text(ip4)
	if addr == "" {
		addr, _ = text(ip6)
	}
	if addr == "" {
		addr, _ = text(host)
	}
	buf := make([]byte, 0, 64)
	if strings.Contains(addr, ":") {
		buf = append(append(append(buf, '['), addr...), ']')
	} else {
		buf = append(buf, addr...)
	}
	if p, ok := signed(port); ok && p >= 0 {
		buf = strconv.AppendInt(append(buf, ':'), p, 10)
	}
	v.s = string(buf)
	return nil
}

// eachField calls fn with each key (quoted, as written) and value of a JSON object whose
// keys have no escapes and whose values are all strings, numbers, booleans or null; it
// returns false, having perhaps called fn for some fields, when b is not such an object.
func eachField(b []byte, fn func(key, val []byte)) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		keyEnd := stringEnd(b, i)
		if keyEnd < 0 {
			return false
		}
		key := b[i:keyEnd]
		if bytes.IndexByte(key, '\\') >= 0 {
			return false // an escaped key: compare it unescaped
		}
		i = skipSpace(b, keyEnd)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return false
		}
		end := i
		switch b[i] {
		case '"':
			end = stringEnd(b, i)
		case '{', '[':
			return false
		default:
			for end < len(b) && !strings.ContainsRune(",} \t\r\n", rune(b[end])) {
				end++
			}
		}
		if end <= i {
			return false
		}
		fn(key, b[i:end])
		i = skipSpace(b, end)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			return true
		}
		if b[i] != ',' {
			return false
		}
		i = skipSpace(b, i+1)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// stringEnd is the index just past the JSON string starting at b[i], or -1.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}
