// Package nodereport reads Node.js diagnostic reports: the JSON that
// --report-uncaught-exception, --report-on-fatalerror, --report-on-signal and
// process.report.writeReport() write. It keeps what nodeinspect judges (the heap, RSS, the
// libuv handles, the open-files limit and the error) and says what it could not read.
//
// The format has a single-digit version, header.reportVersion (doc/api/report.md, "Report
// version history"; src/node_report.cc):
//
//   - 1: the first format (Node.js 11.8 to 12.x). resourceUsage has maxRss (peak, bytes) but
//     no current RSS; libuv endpoints have only host and port.
//   - 2: adds the workers section (Node.js 12.16, 13.9).
//   - 3: adds free_memory, total_memory, rss, constrained_memory and available_memory to
//     resourceUsage (Node.js 19.x, backported to 18.x).
//   - 4: adds ip4 and ip6 to the endpoints of tcp and udp handles, next to host (Node.js 21,
//     20.11); --report-exclude-network leaves host out.
//   - 5: renames the userLimits keys data_seg_size_kbytes, max_memory_size_kbytes and
//     virtual_memory_kbytes to *_bytes, since the values always were bytes (nodejs/node#56068,
//     Node.js 23.x). open_files, the limit nodeinspect reads, keeps its name.
//
// Numbers are JSON numbers in every version, but limits may be the string "unlimited", and
// a few tools rewrite reports with numbers as strings: both are accepted. A version newer
// than 5 is read as far as its keys are known, with a warning.
package nodereport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// NewestKnownVersion is the newest report version this package was written against.
const NewestKnownVersion = 5

// Sentinel errors of Parse.
var (
	// ErrMalformed: the data is not complete, valid JSON (truncated, or not JSON at all).
	ErrMalformed = errors.New("malformed report")
	// ErrNotReport: valid JSON, but not a Node.js diagnostic report.
	ErrNotReport = errors.New("not a Node.js diagnostic report")
)

// Report is what nodeinspect needs from a Node.js diagnostic report.
type Report struct {
	// Version is header.reportVersion (0 when missing).
	Version int
	// NodeVersion is header.nodejsVersion, e.g. "v20.20.2".
	NodeVersion string
	// Event and Trigger say why the report was written ("Exception", "JavaScript API"...).
	Event, Trigger string
	// PID is header.processId.
	PID int
	// DumpTime is header.dumpEventTime verbatim.
	DumpTime string
	// Cmdline is header.commandLine.
	Cmdline []string
	// Error is the JavaScript error the report was written for, nil when it was not
	// written for an error (javascriptStack.message "No stack.").
	Error *Error
	// Heap is the V8 heap from javascriptHeap.
	Heap Heap
	// RSSBytes is resourceUsage.rss (version 3 and later), bytes; nil when absent.
	RSSBytes *uint64
	// PeakRSSBytes is resourceUsage.maxRss, bytes; nil when absent.
	PeakRSSBytes *uint64
	// Handles is the libuv section.
	Handles []Handle
	// OpenFilesSoft and OpenFilesHard are userLimits.open_files; nil means unlimited when
	// OpenFilesKnown, unknown otherwise.
	OpenFilesSoft, OpenFilesHard *uint64
	// OpenFilesKnown is true when userLimits has an open_files row.
	OpenFilesKnown bool
	// Warnings are what could not be read, one sentence each.
	Warnings []string
}

// Error is the JavaScript error of a report.
type Error struct {
	// Message is javascriptStack.message ("Error: payment service returned garbage").
	Message string
	// Stack is javascriptStack.stack, one frame a line.
	Stack []string
	// Code is javascriptStack.errorProperties.code when present; for a fatal error without
	// a JavaScript stack, the report's trigger ("OOMError", "FatalError") and Message is
	// its event.
	Code string
}

// Heap is the V8 heap of a report, bytes; a nil field was not in the report.
type Heap struct {
	// UsedBytes, TotalBytes, LimitBytes and AvailableBytes are javascriptHeap.usedMemory,
	// totalMemory, memoryLimit and availableMemory.
	UsedBytes, TotalBytes, LimitBytes, AvailableBytes *uint64
	// ExternalBytes is javascriptHeap.externalMemory (reports of Node.js 18.3 and later).
	ExternalBytes *uint64
	// ArrayBuffersBytes is not in reports; it stays nil.
	ArrayBuffersBytes *uint64
}

// Handle is one libuv handle of a report.
type Handle struct {
	// Type is libuv's name: tcp, udp, pipe, tty, timer, process, signal, fs_event, ...
	Type string
	// Active and Referenced are is_active and is_referenced (a handle without
	// is_referenced, as the loop entry, counts as referenced).
	Active, Referenced bool
	// FD is the handle's fd when it has one.
	FD *int
	// Local and Remote are "ip:port" of a socket's endpoints, or a pipe's name in Local.
	Local, Remote string
	// Detail describes handles without endpoints: a timer's due time, a child's pid, a
	// signal, a watched file.
	Detail string
}

// rawReport is the part of a report Parse decodes; everything else is skipped.
type rawReport struct {
	Header          *rawHeader                   `json:"header"`
	JavascriptStack *rawStack                    `json:"javascriptStack"`
	JavascriptHeap  map[string]json.RawMessage   `json:"javascriptHeap"`
	ResourceUsage   map[string]json.RawMessage   `json:"resourceUsage"`
	Libuv           []map[string]json.RawMessage `json:"libuv"`
	UserLimits      map[string]struct {
		Soft json.RawMessage `json:"soft"`
		Hard json.RawMessage `json:"hard"`
	} `json:"userLimits"`
}

type rawHeader struct {
	ReportVersion json.RawMessage `json:"reportVersion"`
	Event         string          `json:"event"`
	Trigger       string          `json:"trigger"`
	DumpEventTime string          `json:"dumpEventTime"`
	ProcessID     json.RawMessage `json:"processId"`
	CommandLine   []string        `json:"commandLine"`
	NodejsVersion string          `json:"nodejsVersion"`
}

type rawStack struct {
	Message         string                     `json:"message"`
	Stack           []string                   `json:"stack"`
	ErrorProperties map[string]json.RawMessage `json:"errorProperties"`
}

// Looks reports, cheaply, whether data starts like a Node.js report: a JSON object whose
// first key is "header" (Node writes it first in every version).
func Looks(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) == 0 || data[0] != '{' {
		return false
	}
	return bytes.HasPrefix(bytes.TrimLeft(data[1:], " \t\r\n"), []byte(`"header"`))
}

// Parse reads a report. Errors wrap ErrMalformed (not complete JSON: the offset says where
// it stopped) or ErrNotReport (JSON of something else); a report with missing or unknown
// parts is returned with Warnings.
func Parse(data []byte) (*Report, error) {
	var raw rawReport
	if err := json.Unmarshal(data, &raw); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			if syn.Offset >= int64(len(bytes.TrimRight(data, " \t\r\n"))) {
				return nil, fmt.Errorf("%w: cut short after %d bytes (%v)", ErrMalformed, len(data), err)
			}
			return nil, fmt.Errorf("%w: not JSON at byte %d: %v", ErrMalformed, syn.Offset, err)
		case errors.As(err, &typ):
			return nil, fmt.Errorf("%w: %s has the wrong type (%s where a report has %s)", ErrNotReport, typ.Field, typ.Value, typ.Type)
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if raw.Header == nil {
		return nil, fmt.Errorf("%w: no \"header\" object", ErrNotReport)
	}
	if raw.Header.NodejsVersion == "" && len(raw.Header.ReportVersion) == 0 {
		return nil, fmt.Errorf("%w: its header has neither reportVersion nor nodejsVersion", ErrNotReport)
	}
	r := &Report{
		NodeVersion: raw.Header.NodejsVersion,
		Event:       raw.Header.Event,
		Trigger:     raw.Header.Trigger,
		DumpTime:    raw.Header.DumpEventTime,
		Cmdline:     raw.Header.CommandLine,
	}
	r.readHeader(raw.Header)
	r.readStack(raw.JavascriptStack)
	if r.Error == nil && (r.Trigger == "OOMError" || r.Trigger == "FatalError") {
		// A fatal error has no JavaScript stack: the event is what killed it
		// ("Allocation failed - JavaScript heap out of memory").
		r.Error = &Error{Message: r.Event, Code: r.Trigger, Stack: []string{}}
	}
	r.readHeap(raw.JavascriptHeap)
	r.readResources(raw.ResourceUsage)
	r.readHandles(raw.Libuv)
	r.readLimits(raw.UserLimits)
	return r, nil
}

func (r *Report) warn(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

func (r *Report) readHeader(h *rawHeader) {
	if v, ok := number(h.ReportVersion); ok && v <= 1000 {
		r.Version = int(v)
	} else {
		r.warn("report: no usable header.reportVersion (%s): read as the newest known version", clip(h.ReportVersion))
	}
	if r.Version > NewestKnownVersion {
		r.warn("report version %d is newer than this nodeinspect knows (1 to %d): read what it could", r.Version, NewestKnownVersion)
	}
	if v, ok := number(h.ProcessID); ok && v <= 1<<22 {
		r.PID = int(v)
	}
}

func (r *Report) readStack(s *rawStack) {
	if s == nil {
		r.warn("report: no javascriptStack section")
		return
	}
	if s.Message == "" || s.Message == "No stack." {
		return
	}
	e := &Error{Message: s.Message, Stack: s.Stack}
	if code, ok := s.ErrorProperties["code"]; ok {
		var text string
		if json.Unmarshal(code, &text) == nil {
			e.Code = text
		} else {
			e.Code = string(code)
		}
	}
	r.Error = e
}

func (r *Report) readHeap(h map[string]json.RawMessage) {
	if h == nil {
		r.warn("report: no javascriptHeap section: heap not judged")
		return
	}
	get := func(key string) *uint64 {
		raw, ok := h[key]
		if !ok {
			return nil
		}
		if v, ok := number(raw); ok {
			return &v
		}
		r.warn("report: javascriptHeap.%s is %s, not a size", key, clip(raw))
		return nil
	}
	r.Heap = Heap{
		UsedBytes:      get("usedMemory"),
		TotalBytes:     get("totalMemory"),
		LimitBytes:     get("memoryLimit"),
		AvailableBytes: get("availableMemory"),
		ExternalBytes:  get("externalMemory"),
	}
}

func (r *Report) readResources(u map[string]json.RawMessage) {
	if u == nil {
		r.warn("report: no resourceUsage section: RSS unknown")
		return
	}
	if raw, ok := u["maxRss"]; ok {
		if v, ok := number(raw); ok {
			r.PeakRSSBytes = &v
		}
	}
	if raw, ok := u["rss"]; ok {
		if v, ok := number(raw); ok {
			r.RSSBytes = &v
			return
		}
		r.warn("report: resourceUsage.rss is %s, not a size", clip(raw))
		return
	}
	if r.PeakRSSBytes != nil {
		r.warn("report version %d has no current RSS (resourceUsage.rss came in version 3): external memory judged from the peak RSS (maxRss)", r.Version)
		r.RSSBytes = r.PeakRSSBytes
		return
	}
	r.warn("report: resourceUsage has no rss or maxRss: RSS unknown")
}

func (r *Report) readLimits(limits map[string]struct {
	Soft json.RawMessage `json:"soft"`
	Hard json.RawMessage `json:"hard"`
}) {
	if limits == nil {
		r.warn("report: no userLimits section: open-files limit unknown")
		return
	}
	row, ok := limits["open_files"]
	if !ok {
		r.warn("report: userLimits has no open_files row")
		return
	}
	soft, okSoft := limit(row.Soft)
	hard, okHard := limit(row.Hard)
	if !okSoft || !okHard {
		r.warn("report: userLimits.open_files is {soft: %s, hard: %s}, not limits", clip(row.Soft), clip(row.Hard))
		return
	}
	r.OpenFilesSoft, r.OpenFilesHard, r.OpenFilesKnown = soft, hard, true
}

// limit reads a userLimits value: a number, or "unlimited" (nil).
func limit(raw json.RawMessage) (*uint64, bool) {
	var text string
	if json.Unmarshal(raw, &text) == nil && text == "unlimited" {
		return nil, true
	}
	if v, ok := number(raw); ok {
		return &v, true
	}
	return nil, false
}

func (r *Report) readHandles(list []map[string]json.RawMessage) {
	if list == nil {
		r.warn("report: no libuv section: handles unknown")
		return
	}
	r.Handles = make([]Handle, 0, len(list))
	for _, m := range list {
		h := Handle{Type: str(m["type"]), Active: boolean(m["is_active"]), Referenced: true}
		if raw, ok := m["is_referenced"]; ok {
			h.Referenced = boolean(raw)
		}
		if raw, ok := m["fd"]; ok {
			var fd int64
			if json.Unmarshal(raw, &fd) == nil && fd >= 0 && fd <= 1<<31 {
				n := int(fd)
				h.FD = &n
			}
		}
		h.Local, h.Remote = endpoint(m["localEndpoint"]), endpoint(m["remoteEndpoint"])
		if h.Local == "" {
			h.Local = str(m["pipe"])
		}
		h.Detail = detail(h, m)
		r.Handles = append(r.Handles, h)
	}
}

// endpoint formats {"host", "ip4", "ip6", "port"} as "ip:port" (the address, not the host
// name, when the report has both: version 4 and later).
func endpoint(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var e struct {
		Host string          `json:"host"`
		IP4  string          `json:"ip4"`
		IP6  string          `json:"ip6"`
		Port json.RawMessage `json:"port"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return ""
	}
	port := "?"
	if p, ok := number(e.Port); ok {
		port = strconv.FormatUint(p, 10)
	}
	switch {
	case e.IP4 != "":
		return e.IP4 + ":" + port
	case e.IP6 != "":
		return "[" + e.IP6 + "]:" + port
	case strings.Contains(e.Host, ":"):
		return "[" + e.Host + "]:" + port
	case e.Host != "":
		return e.Host + ":" + port
	}
	return ""
}

// detail describes a handle without endpoints.
func detail(h Handle, m map[string]json.RawMessage) string {
	switch h.Type {
	case "timer":
		if fires, ok := m["firesInMsFromNow"]; ok && h.Active {
			return "fires in " + string(fires) + " ms"
		}
	case "process":
		if pid, ok := m["pid"]; ok {
			return "child pid " + string(pid)
		}
	case "signal":
		if name := str(m["signal"]); name != "" {
			return name
		}
		if n, ok := m["signum"]; ok {
			return "signal " + string(n)
		}
	case "fs_event", "fs_poll":
		return str(m["filename"])
	}
	return ""
}

// number reads a non-negative integer from a JSON number or numeric string. Floats are
// truncated ("1.5e3" is 1500); anything else, or a value beyond uint64, is not a number.
func number(raw json.RawMessage) (uint64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, false
	}
	text := string(raw)
	if raw[0] == '"' {
		if json.Unmarshal(raw, &text) != nil {
			return 0, false
		}
	}
	if v, err := strconv.ParseUint(text, 10, 64); err == nil {
		return v, true
	}
	f, err := strconv.ParseFloat(text, 64)
	// 2^64 is exactly representable; anything from it up does not fit.
	if err != nil || f < 0 || f >= 18446744073709551616.0 || f != f {
		return 0, false
	}
	return uint64(f), true
}

func str(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

func boolean(raw json.RawMessage) bool {
	var b bool
	return json.Unmarshal(raw, &b) == nil && b
}

// clip shortens raw JSON for a warning.
func clip(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "missing"
	}
	if len(raw) > 40 {
		return string(raw[:40]) + "..."
	}
	return string(raw)
}
