// Package profile records profiles of a live process through an attached Session: a CPU profile (Profiler), a
// sampling heap profile and a full heap snapshot (HeapProfiler). The protocol domains run
// none of our JavaScript in the target. Session.Close disables every domain enabled here,
// so the profiler is off on every path; a session that breaks ends the profiler with it (V8
// stops a session's profiler when the session goes).
// NewCPUDoc, NewSamplingHeapDoc and NewSnapshotHeapDoc turn what was recorded into the
// documents report renders.
package profile
