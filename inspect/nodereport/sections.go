package nodereport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// How each section of a report is read into a Report, with a warning for what cannot be.

func (r *Report) warn(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// readHeader fills the header fields and returns header.platform.
func (r *Report) readHeader(h *rawHeader) (platform string) {
	switch v, ok := number(h.ReportVersion); {
	case !present(h.ReportVersion):
		r.warn("header has no \"reportVersion\" (the first reports of Node.js 11 had none): read as the oldest format")
	case !ok || v > 1000:
		r.warn("header.reportVersion is %s, not a version number: version taken as 0, read what it could", clip(h.ReportVersion))
	default:
		r.Version = int(v)
		if r.Version > newestKnownVersion {
			r.warn("report version %d is newer than this tool knows (1-%d): read what it could", r.Version, newestKnownVersion)
		}
	}
	r.NodeVersion = r.headerString(h.NodejsVersion, "nodejsVersion")
	r.Event = r.headerString(h.Event, "event")
	if present(h.Trigger) || !present(h.Location) {
		r.Trigger = r.headerString(h.Trigger, "trigger")
	} else {
		r.Trigger = r.headerString(h.Location, "location")
	}
	r.DumpTime = r.headerString(h.DumpEventTime, "dumpEventTime")
	switch v, ok := number(h.ProcessID); {
	case !present(h.ProcessID):
		r.warn("header has no \"processId\"")
	case !ok || v > 1<<31-1:
		r.warn("header.processId is %s, not a process id", clip(h.ProcessID))
	default:
		r.PID = int(v)
	}
	if present(h.CommandLine) {
		lines, bad := stringList(h.CommandLine)
		r.Cmdline = lines
		if bad {
			r.warn("header.commandLine is %s, not a list of strings: kept the strings", clip(h.CommandLine))
		}
	} else {
		r.warn("header has no \"commandLine\"")
	}
	platform, _ = text(h.Platform)
	return platform
}

// headerString reads a string of the header, warning when it is missing or not a string.
func (r *Report) headerString(raw json.RawMessage, key string) string {
	if !present(raw) {
		r.warn("header has no %q", key)
		return ""
	}
	s, ok := text(raw)
	if !ok {
		r.warn("header.%s is %s, not a string", key, clip(raw))
	}
	return s
}

// fatalTrigger is whether a trigger means a fatal error, whose report has no JavaScript
// error of its own.
func fatalTrigger(trigger string) bool {
	switch trigger {
	case "FatalError", "OOMError", "OnFatalError":
		return true
	}
	return false
}

func (r *Report) readStack(raw json.RawMessage) {
	if !present(raw) {
		r.warn("report has no \"javascriptStack\" section: error unknown")
		return
	}
	var s rawStack
	if !isObject(raw) || json.Unmarshal(raw, &s) != nil {
		r.warn("javascriptStack is %s, not an object: error unknown", kind(raw))
		return
	}
	message, _ := text(s.Message)
	var lines []string
	if present(s.Stack) {
		var bad bool
		lines, bad = stringList(s.Stack)
		if bad {
			r.warn("javascriptStack.stack is %s, not a list of strings: kept the strings", clip(s.Stack))
		}
	}
	if len(lines) == 1 && lines[0] == "Unavailable." {
		lines = nil
	}
	var code string
	if isObject(s.ErrorProperties) {
		var props struct {
			Code json.RawMessage `json:"code"`
		}
		if json.Unmarshal(s.ErrorProperties, &props) == nil && present(props.Code) {
			if c, ok := text(props.Code); ok {
				code = c
			} else {
				code = string(bytes.TrimSpace(props.Code))
				if len(code) > 100 {
					code = code[:100]
				}
			}
		}
	}
	noError := message == "" || message == "No stack." || message == r.Trigger
	switch {
	case fatalTrigger(r.Trigger) && noError:
		if r.Event != "" {
			code := "FatalError"
			if r.Trigger == "OOMError" || strings.Contains(r.Event, "JavaScript heap out of memory") {
				code = "OOMError" // older versions wrote heap exhaustion as a "FatalError"
			}
			r.Error = &Error{Message: r.Event, Stack: lines, Code: code}
		}
	case noError:
	case code == "ERR_SYNTHETIC" || strings.HasPrefix(message, "Error [ERR_SYNTHETIC]"):
		// getReport() or writeReport() without an error: the stack of the call, no error.
	default:
		r.Error = &Error{Message: message, Stack: lines, Code: code}
	}
}

func (r *Report) readHeap(raw json.RawMessage) {
	if !present(raw) {
		r.warn("report has no \"javascriptHeap\" section (written without a JavaScript isolate): heap sizes unknown")
		return
	}
	var h rawHeap
	if !isObject(raw) || json.Unmarshal(raw, &h) != nil {
		r.warn("javascriptHeap is %s, not an object: heap sizes unknown", kind(raw))
		return
	}
	r.Heap.UsedBytes = r.size(h.UsedMemory, "javascriptHeap", "usedMemory", true)
	r.Heap.TotalBytes = r.size(h.TotalMemory, "javascriptHeap", "totalMemory", true)
	r.Heap.LimitBytes = r.size(h.MemoryLimit, "javascriptHeap", "memoryLimit", true)
	r.Heap.AvailableBytes = r.size(h.AvailableMemory, "javascriptHeap", "availableMemory", true)
	r.Heap.ExternalBytes = r.size(h.ExternalMemory, "javascriptHeap", "externalMemory", false)
	r.readHeapSpaces(h.HeapSpaces)
}

// readHeapSpaces reads the used bytes of each heap space: javascriptHeap.heapSpaces is an
// object of {memorySize, committedMemory, capacity, used, available} by space name.
func (r *Report) readHeapSpaces(raw json.RawMessage) {
	if !present(raw) {
		r.warn("javascriptHeap has no \"heapSpaces\": the old generation's use is unknown")
		return
	}
	var spaces map[string]json.RawMessage
	if !isObject(raw) || json.Unmarshal(raw, &spaces) != nil {
		r.warn("javascriptHeap.heapSpaces is %s, not an object: the old generation's use is unknown", kind(raw))
		return
	}
	used := make(map[string]uint64, len(spaces))
	bad := 0
	for name, sp := range spaces {
		var row struct {
			Used json.RawMessage `json:"used"`
		}
		if !isObject(sp) || json.Unmarshal(sp, &row) != nil {
			bad++
			continue
		}
		v, ok := number(row.Used)
		if !ok {
			bad++
			continue
		}
		used[name] = v
	}
	if bad > 0 {
		r.warn("javascriptHeap.heapSpaces: %d of %d spaces have no readable \"used\" size: the old generation's use is unknown", bad, len(spaces))
		return
	}
	r.HeapSpacesUsed = used
}

// readNodeOptions reads NODE_OPTIONS from the environmentVariables section, which holds
// every variable as a string; a missing section or variable is not an error.
func (r *Report) readNodeOptions(raw json.RawMessage) {
	if !present(raw) || !isObject(raw) {
		return
	}
	var env struct {
		NodeOptions json.RawMessage `json:"NODE_OPTIONS"`
	}
	if json.Unmarshal(raw, &env) != nil || !present(env.NodeOptions) {
		return
	}
	if v, ok := text(env.NodeOptions); ok {
		r.NodeOptions = &v
	}
}

// size reads a byte count of a section; nil with a warning when it is not one, nil and
// (when required) a warning when it is missing.
func (r *Report) size(raw json.RawMessage, section, key string, required bool) *uint64 {
	if len(raw) == 0 {
		if required {
			r.warn("%s has no %q", section, key)
		}
		return nil
	}
	if v, ok := number(raw); ok {
		return &v
	}
	if negative(raw) {
		r.warn("%s.%s is %s, a negative size: ignored", section, key, clip(raw))
	} else {
		r.warn("%s.%s is %s, not a size: ignored", section, key, clip(raw))
	}
	return nil
}

// readRSS reads resourceUsage.rss (bytes, version 3 and later). Without it, the peak RSS
// resourceUsage.maxRss stands in, with a warning: it is ru_maxrss * 1024, bytes where
// ru_maxrss is in kilobytes (Linux, Windows through libuv, and macOS since reports use
// libuv's uv_getrusage, which converts). The first reports called getrusage themselves,
// and macOS gives ru_maxrss in bytes: their maxRss is 1024 times too large (the example
// report of doc/api/report.md has maxRss 36624662528 next to rss 35766272). For a macOS
// report whose maxRss is implausibly large (1 TiB or more, or 512 times the V8 heap or
// more), the value is divided by 1024, with a warning saying so.
func (r *Report) readRSS(raw json.RawMessage, platform string) {
	if !present(raw) {
		r.warn("report has no \"resourceUsage\" section: RSS unknown")
		return
	}
	var u rawUsage
	if !isObject(raw) || json.Unmarshal(raw, &u) != nil {
		r.warn("resourceUsage is %s, not an object: RSS unknown", kind(raw))
		return
	}
	if len(u.RSS) > 0 {
		if rss := r.size(u.RSS, "resourceUsage", "rss", false); rss != nil {
			r.RSSBytes = rss
			return
		}
	} else if r.Version >= 3 {
		r.warn("resourceUsage has no \"rss\" although version %d reports have it (Node could not read it)", r.Version)
	}
	if len(u.MaxRSS) == 0 {
		r.warn("resourceUsage has neither \"rss\" nor \"maxRss\": RSS unknown")
		return
	}
	peak := r.size(u.MaxRSS, "resourceUsage", "maxRss", false)
	if peak == nil {
		return
	}
	v := *peak
	if platform == "darwin" && (v >= 1<<40 || (r.Heap.TotalBytes != nil && *r.Heap.TotalBytes > 0 && v/(*r.Heap.TotalBytes) >= 512)) {
		v /= 1024
		r.warn("resourceUsage.maxRss %d of a macOS report is implausibly large (old reports multiplied bytes by 1024): read as %d bytes", *peak, v)
	}
	r.RSSBytes = &v
	if len(u.RSS) == 0 && r.Version < 3 {
		r.warn("report version %d has no current RSS (resourceUsage.rss came in version 3): RSS is the peak, resourceUsage.maxRss", r.Version)
	} else {
		r.warn("RSS is the peak, resourceUsage.maxRss, as resourceUsage.rss could not be read")
	}
}

func (r *Report) readLimits(raw json.RawMessage) {
	if !present(raw) {
		r.warn("report has no \"userLimits\" section (Windows reports have none): open-files limit unknown")
		return
	}
	var limits struct {
		OpenFiles json.RawMessage `json:"open_files"`
	}
	if !isObject(raw) || json.Unmarshal(raw, &limits) != nil {
		r.warn("userLimits is %s, not an object: open-files limit unknown", kind(raw))
		return
	}
	if !present(limits.OpenFiles) {
		r.warn("userLimits has no \"open_files\" row: open-files limit unknown")
		return
	}
	var row rawLimit
	if !isObject(limits.OpenFiles) || json.Unmarshal(limits.OpenFiles, &row) != nil {
		r.warn("userLimits.open_files is %s, not {soft, hard}: open-files limit unknown", kind(limits.OpenFiles))
		return
	}
	soft, okSoft := limit(row.Soft)
	hard, okHard := limit(row.Hard)
	if !okSoft || !okHard {
		r.warn("userLimits.open_files is {soft: %s, hard: %s}, not two limits: open-files limit unknown", clip(row.Soft), clip(row.Hard))
		return
	}
	r.OpenFilesSoft, r.OpenFilesHard, r.OpenFilesKnown = soft, hard, true
}

// limit reads a userLimits value: a count, or "unlimited" (nil).
func limit(raw json.RawMessage) (*uint64, bool) {
	if s, ok := text(raw); ok && strings.EqualFold(strings.TrimSpace(s), "unlimited") {
		return nil, true
	}
	if v, ok := number(raw); ok {
		return &v, true
	}
	return nil, false
}

// handleProblems counts what was wrong with libuv entries, for one warning each.
type handleProblems struct {
	notObject, noType, badFD int
}

func (r *Report) readHandles(raw json.RawMessage) {
	if !present(raw) {
		r.warn("report has no \"libuv\" section: handles unknown")
		return
	}
	if isObject(raw) {
		// {loop_idle_time, handles: [...]}, the shape first proposed in PR #35940.
		var wrapped struct {
			Handles json.RawMessage `json:"handles"`
		}
		if json.Unmarshal(raw, &wrapped) != nil || !isArray(wrapped.Handles) {
			r.warn("libuv is an object without a \"handles\" list: handles unknown")
			return
		}
		raw = wrapped.Handles
	}
	if !isArray(raw) {
		r.warn("libuv is %s, not a list: handles unknown", kind(raw))
		return
	}
	var p handleProblems
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // the '['
		r.warn("libuv cannot be read (%v): handles unknown", err)
		return
	}
	r.Handles = []Handle{}
	total := 0
	for dec.More() {
		total++
		var h rawHandle
		if err := dec.Decode(&h); err != nil {
			var typ *json.UnmarshalTypeError
			if errors.As(err, &typ) {
				p.notObject++
				continue
			}
			r.warn("libuv cannot be read past entry %d (%v): later handles unknown", total, err)
			break
		}
		r.Handles = append(r.Handles, readHandle(&h, &p))
	}
	if p.notObject > 0 {
		r.warn("libuv: %d of %d entries are not objects: skipped", p.notObject, total)
	}
	if p.noType > 0 {
		r.warn("libuv: %d entries have no \"type\"", p.noType)
	}
	if p.badFD > 0 {
		r.warn("libuv: %d entries have an fd that is not a file descriptor: ignored", p.badFD)
	}
}

func readHandle(raw *rawHandle, p *handleProblems) Handle {
	h := Handle{
		Type:       raw.Type.s,
		Active:     bool(raw.IsActive),
		Referenced: bool(raw.IsReferenced),
		Local:      raw.LocalEndpoint.s,
		Remote:     raw.RemoteEndpoint.s,
	}
	if h.Type == "" {
		p.noType++
	}
	if raw.FD.set {
		if fd := raw.FD.v; raw.FD.ok && fd >= 0 && fd <= 1<<31-1 {
			n := int(fd)
			h.FD = &n
		} else if !raw.FD.ok {
			p.badFD++
		}
	}
	h.Detail = detail(h.Type, raw)
	if details := strings.TrimSpace(raw.Details.s); details != "" {
		if h.FD == nil {
			h.FD = legacyFD(details)
		}
		if h.Detail == "" {
			h.Detail = details
		}
	}
	return h
}

// legacyFD finds the fd in the details text of the oldest reports: ", file descriptor:
// 19", or ", stdin" / ", stdout" / ", stderr".
func legacyFD(details string) *int {
	if i := strings.Index(details, "file descriptor: "); i >= 0 {
		rest := details[i+len("file descriptor: "):]
		end := strings.IndexFunc(rest, func(c rune) bool { return c < '0' || c > '9' })
		if end < 0 {
			end = len(rest)
		}
		if n, err := strconv.Atoi(rest[:end]); err == nil {
			return &n
		}
	}
	for fd, name := range []string{", stdin", ", stdout", ", stderr"} {
		if strings.Contains(details+",", name+",") {
			n := fd
			return &n
		}
	}
	return nil
}

// detail describes what a handle entry says besides its type, flags, fd and endpoints.
func detail(typ string, h *rawHandle) string {
	switch typ {
	case "timer":
		var parts []string
		if h.Repeat.ok {
			parts = append(parts, fmt.Sprintf("repeat %d ms", h.Repeat.v))
		}
		fires := h.FiresInMsFromNow
		switch {
		case bool(h.Expired) && fires.ok && fires.v < 0 && fires.v > -1<<62:
			parts = append(parts, fmt.Sprintf("expired %d ms ago", -fires.v))
		case bool(h.Expired):
			parts = append(parts, "expired")
		case fires.ok:
			parts = append(parts, fmt.Sprintf("fires in %d ms", fires.v))
		}
		return strings.Join(parts, ", ")
	case "process":
		if h.PID.ok {
			return fmt.Sprintf("pid %d", h.PID.v)
		}
	case "signal":
		switch {
		case h.Signum.ok && h.Signal.s != "":
			return fmt.Sprintf("signum %d (%s)", h.Signum.v, h.Signal.s)
		case h.Signum.ok:
			return fmt.Sprintf("signum %d", h.Signum.v)
		}
		return h.Signal.s
	case "fs_event", "fs_poll":
		return h.Filename.s
	case "tty":
		var parts []string
		if h.Width.ok && h.Height.ok {
			parts = append(parts, fmt.Sprintf("%dx%d", h.Width.v, h.Height.v))
		}
		if h.Stdio.s != "" {
			parts = append(parts, h.Stdio.s)
		}
		return strings.Join(parts, ", ")
	case "loop":
		if h.LoopIdleTimeSeconds.ok {
			return "idle " + strconv.FormatFloat(h.LoopIdleTimeSeconds.v, 'f', -1, 64) + " s"
		}
	default:
		return h.Stdio.s
	}
	return ""
}
