// Package nodereport reads Node.js diagnostic reports: the JSON that
// --report-uncaught-exception, --report-on-fatalerror, --report-on-signal,
// process.report.writeReport() and process.report.getReport() produce. It keeps what
// nodeinspect judges (the error, the V8 heap, the RSS, the libuv handles and the
// open-files limit) and says in Report.Warnings what it could not read.
//
// # Report versions
//
// The format carries a single-digit version, header.reportVersion, bumped "when new key
// is added or removed, or the data type of a value is changed" (nodejs/node
// doc/api/report.md, section "Report Version", added by PR #56130). What each version
// changed, as read in doc/api/report.md, src/node_report.cc and src/node_report_utils.cc
// of nodejs/node and their commits:
//
//   - No version at all: the first in-core reports (Node.js 11.8, PR #22712 "node-report:
//     meld into core"). The header has "location" where later ones have "trigger";
//     processId and every number are strings ("8974"); libuv handles are
//     {type, is_active: "1", is_referenced: "1", address, details: "repeat: 0, timeout in:
//     ..."}, with the endpoints, pid, fd etc. inside the details text. PR #26019 ("report:
//     make more items programmatically accessible", February 2019) turned handles into
//     structured JSON (booleans, localEndpoint objects, pid, signum, fd). In which release
//     reportVersion 1 first appeared could not be confirmed; Parse reads such reports as
//     Version 0, with a warning, and accepts numeric strings and "details" everywhere.
//   - 1: the doc's example report (nodejsVersion v12.0.0-pre). resourceUsage has
//     userCpuSeconds, kernelCpuSeconds, cpuConsumptionPercent, maxRss, pageFaults and
//     fsActivity but no current RSS. maxRss is ru_maxrss * 1024, i.e. bytes, in every
//     version (it was never kbytes; but the earliest code called getrusage directly, and
//     macOS reports ru_maxrss in bytes, so old macOS reports are 1024 times too large:
//     see readRSS). javascriptHeap has totalMemory, totalCommittedMemory, usedMemory,
//     availableMemory, memoryLimit and heapSpaces. userLimits rows are
//     {soft, hard}, each a number or the string "unlimited", under the names
//     core_file_size_blocks, data_seg_size_kbytes, file_size_blocks,
//     max_locked_memory_bytes, max_memory_size_kbytes, open_files, stack_size_bytes,
//     cpu_time_seconds, max_user_processes, virtual_memory_kbytes (no userLimits on
//     Windows). tcp and udp endpoints are {host, port}, host being the reverse-DNS name
//     or, failing that, the address (PR #26140). Pipes got localEndpoint and
//     remoteEndpoint later, without a version bump, as plain strings (the socket path) or
//     null (asked for in issue #38625, 2021; in the source since).
//   - 2: adds the "workers" array, a full sub-report per worker thread (PR #31386;
//     Node.js v13.9.0 and v12.16.2).
//   - Without a version bump, PR #43116 (2022, "report: add more heap infos in process
//     report") added executableMemory, totalGlobalHandlesMemory, usedGlobalHandlesMemory,
//     mallocedMemory, externalMemory, peakMallocedMemory, nativeContextCount,
//     detachedContextCount and doesZapGarbage to javascriptHeap; the first release with
//     them was not confirmed (an 18.x). So Heap.ExternalBytes is optional in every version.
//     Likewise PR #35940 (2020) added the event loop's idle time: the current source
//     writes it as a last libuv entry {type: "loop", is_active, address,
//     loopIdleTimeSeconds} (no is_referenced); the PR first proposed turning libuv into
//     {loop_idle_time, handles: [...]}, and Parse accepts that shape too.
//   - 3: resourceUsage gains rss, free_memory, total_memory, available_memory and
//     constrained_memory, all bytes (PR #45254; Node.js v19.1.0 and v18.13.0). rss is left
//     out when libuv cannot read it. Nothing was renamed: userCpuSeconds and
//     kernelCpuSeconds have kept their names since the first report.
//   - 4: tcp and udp endpoints gain "ip4" or "ip6" next to "host"; with
//     --report-exclude-network (v22.0.0, v20.13.0) no reverse DNS is done and host is the
//     address itself (PR #55602, commit 5a437c4 "report: fix network queries in getReport
//     libuv with exclude-network"). The doc gives no release; Node.js v20.20.2 writes 4
//     (checked by running it).
//   - 5: userLimits data_seg_size_kbytes, max_memory_size_kbytes and virtual_memory_kbytes
//     become data_seg_size_bytes, max_memory_size_bytes and virtual_memory_bytes, as the
//     values always were bytes (PR #56068, commit 65bc8e8, end of 2024; the first
//     release with it was not confirmed: a 23.x, so 24 and later). open_files, the row
//     read here, kept its name in every version, and soft/hard stayed a number or
//     "unlimited".
//
// The JavaScript stack (src/node_report.cc PrintJavaScriptErrorStack): for an error, its
// "message" is the first line of err.stack (or String(err) for a thrown non-object),
// "stack" the following lines and "errorProperties" its other own properties as strings
// (code, errno, syscall...). process.report.getReport() and writeReport() without an
// error pass a synthetic ERR_SYNTHETIC error ("Error [ERR_SYNTHETIC]: JavaScript
// Callstack"); signal reports have an empty message or the trigger; fatal errors
// (trigger "FatalError", "OOMError", or location "OnFatalError" in the oldest reports)
// have "No stack." and ["Unavailable."], the error text being header.event ("Allocation
// failed - JavaScript heap out of memory"). When no isolate is available, javascriptHeap
// is missing entirely.
//
// Versions newer than 5 are read as far as their keys are the known ones, with a warning.
package nodereport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// newestKnownVersion is the newest header.reportVersion this package was written against.
const newestKnownVersion = 5

// ErrMalformed is wrapped by the errors of Parse for data that is not complete, valid
// JSON: empty, truncated, or not JSON at all.
var ErrMalformed = errors.New("malformed report")

// ErrNotReport is wrapped by the errors of Parse for valid JSON that is not a Node.js
// diagnostic report: not an object, no "header" object, or a header with neither
// reportVersion nor nodejsVersion.
var ErrNotReport = errors.New("not a Node.js diagnostic report")

// Report is what nodeinspect needs from a Node.js diagnostic report.
type Report struct {
	// Version is header.reportVersion (0 when missing).
	Version int
	// NodeVersion is header.nodejsVersion, e.g. "v20.20.2".
	NodeVersion string
	// Event is header.event, e.g. "Exception", "JavaScript API", "SIGUSR2", or a fatal
	// error's text.
	Event string
	// Trigger is header.trigger ("Exception", "API", "GetReport", "Signal", "FatalError",
	// "OOMError"...), or header.location in the oldest reports.
	Trigger string
	// PID is header.processId.
	PID int
	// DumpTime is header.dumpEventTime verbatim.
	DumpTime string
	// Cmdline is header.commandLine.
	Cmdline []string
	// Error is the error the report was written for, from javascriptStack; nil when the
	// report was not written for an error (a signal, or getReport() without an error). For
	// fatal errors, whose javascriptStack is only "No stack.", Message is header.event and
	// Code says which: "OOMError" or "FatalError".
	Error *Error
	// Heap is the V8 heap, from javascriptHeap.
	Heap Heap
	// RSSBytes is the resident set size in bytes: resourceUsage.rss (version 3 and
	// later), else the peak RSS resourceUsage.maxRss with a warning (see readRSS); nil
	// when neither could be read.
	RSSBytes *uint64
	// Handles is the libuv section, one entry per handle (and the "loop" entry).
	Handles []Handle
	// OpenFilesSoft and OpenFilesHard are the soft and hard limits of the userLimits
	// open_files row; nil means unlimited when OpenFilesKnown is true, unknown otherwise.
	OpenFilesSoft, OpenFilesHard *uint64
	// OpenFilesKnown is true when the userLimits open_files row was found and read.
	OpenFilesKnown bool
	// HeapSpacesUsed is the used bytes of each V8 heap space by V8's name ("old_space",
	// "code_space", "large_object_space"...), from javascriptHeap.heapSpaces.<name>.used (in
	// reports of every version); nil when the report has none.
	HeapSpacesUsed map[string]uint64
	// NodeOptions is environmentVariables.NODE_OPTIONS; nil when the report has no such
	// variable (or no environment: --report-exclude-env).
	NodeOptions *string
	// Warnings lists what could not be read, one sentence each.
	Warnings []string
}

// Error is the JavaScript error a report was written for.
type Error struct {
	// Message is javascriptStack.message, e.g. "Error: payment service returned garbage".
	Message string
	// Stack is javascriptStack.stack, one frame a line ("at main (/srv/app/x.js:3:9)").
	Stack []string
	// Code is javascriptStack.errorProperties.code when present, e.g. "ENOENT". For a
	// fatal error, which has no JavaScript error, it is "OOMError" when V8 ran out of heap
	// (trigger "OOMError", or an older report's "FatalError" whose event says "JavaScript
	// heap out of memory") and "FatalError" otherwise.
	Code string
}

// Heap is the V8 heap of a report in bytes; a nil field was not in the report or was
// not a size.
type Heap struct {
	// UsedBytes, TotalBytes, LimitBytes and AvailableBytes are javascriptHeap.usedMemory,
	// totalMemory, memoryLimit and availableMemory (in reports of every version).
	UsedBytes, TotalBytes, LimitBytes, AvailableBytes *uint64
	// ExternalBytes is javascriptHeap.externalMemory, in reports since PR #43116 (2022).
	// ArrayBuffersBytes has no counterpart in any report version written so far and
	// stays nil; it is there for callers that merge other sources.
	ExternalBytes, ArrayBuffersBytes *uint64
}

// Handle is one entry of a report's libuv section.
type Handle struct {
	// Type is libuv's name of the handle type: "tcp", "timer", "pipe", "tty", "udp",
	// "process", "signal", "fs_event", "fs_poll", "async", "check", "idle", "prepare",
	// and "loop" for the event loop itself.
	Type string
	// Active is is_active.
	Active bool
	// Referenced is is_referenced (false when absent, as in the "loop" entry).
	Referenced bool
	// FD is the handle's file descriptor when present and >= 0.
	FD *int
	// Local is localEndpoint as "ip:port" ("[ip6]:port"; the host name when an old report
	// has no address), or a pipe's path; "" when absent.
	Local string
	// Remote is remoteEndpoint, formatted as Local.
	Remote string
	// Detail is a short description of what else the entry says: a timer's "repeat N ms,
	// fires in X ms", a child's "pid N", a signal's "signum N (SIGTERM)", a watched file's
	// name, a tty's size, the loop's idle time, or the details text of the oldest reports.
	Detail string
}

// Parse reads a Node.js diagnostic report of any version. Errors wrap ErrMalformed (not
// complete, valid JSON; *json.SyntaxError is wrapped too) or ErrNotReport (JSON of
// something else). A report with missing, unreadable or unknown parts is returned with
// the affected fields nil or empty and a sentence per problem in Warnings.
func Parse(data []byte) (*Report, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrMalformed)
	}
	var raw rawReport
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, decodeError(err)
	}
	if !present(raw.Header) {
		return nil, fmt.Errorf("%w: no \"header\" object", ErrNotReport)
	}
	if !isObject(raw.Header) {
		return nil, fmt.Errorf("%w: \"header\" is %s, not an object", ErrNotReport, kind(raw.Header))
	}
	var h rawHeader
	if err := json.Unmarshal(raw.Header, &h); err != nil {
		return nil, fmt.Errorf("%w: \"header\" cannot be read: %w", ErrNotReport, err)
	}
	if !present(h.ReportVersion) && !present(h.NodejsVersion) {
		return nil, fmt.Errorf("%w: \"header\" has neither \"reportVersion\" nor \"nodejsVersion\"", ErrNotReport)
	}
	r := &Report{}
	platform := r.readHeader(&h)
	r.readStack(raw.JavascriptStack)
	r.readHeap(raw.JavascriptHeap)
	r.readRSS(raw.ResourceUsage, platform)
	r.readHandles(raw.Libuv)
	r.readLimits(raw.UserLimits)
	r.readNodeOptions(raw.EnvironmentVariables)
	return r, nil
}

// decodeError turns an error of json.Unmarshal on the whole report into one of Parse.
func decodeError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		if strings.Contains(syn.Error(), "unexpected end of JSON input") || errors.Is(err, io.ErrUnexpectedEOF) {
			return &parseError{
				msg:  fmt.Sprintf("report JSON truncated at byte %d: %v", syn.Offset, syn),
				errs: []error{ErrMalformed, err},
			}
		}
		return fmt.Errorf("%w: invalid JSON near byte %d: %w", ErrMalformed, syn.Offset, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &parseError{msg: "report JSON truncated: " + err.Error(), errs: []error{ErrMalformed, err}}
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Errorf("%w: the JSON is %s, not an object", ErrNotReport, article(typ.Value))
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}
