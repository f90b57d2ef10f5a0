package probes

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// TaskCounters are the progress counters of one thread, read together: whether the thread
// made system calls, and how much CPU it used. A nil field could not be read (task io
// needs ptrace access to the process; schedstat needs CONFIG_SCHED_INFO).
type TaskCounters struct {
	// SysCR and SysCW count read- and write-type system calls (read, readv, pread, write,
	// writev, ...) the thread completed: task/<tid>/io "syscr"/"syscw". A call still
	// blocked is not counted yet (fs/read_write.c counts on the way out).
	SysCR, SysCW *uint64
	// Voluntary and Nonvoluntary are task/<tid>/status voluntary_ctxt_switches (the thread
	// blocked) and nonvoluntary_ctxt_switches (it was preempted).
	Voluntary, Nonvoluntary *uint64
	// RunNS is the time the thread spent on a CPU, and WaitNS the time it spent runnable
	// but waiting for one, in nanoseconds: the first two fields of task/<tid>/schedstat.
	RunNS, WaitNS *uint64
	// CPUTicks is utime+stime of task/<tid>/stat in clock ticks (always read with the
	// stat that comes with it).
	CPUTicks uint64
}

// ParseTaskIO reads syscr and syscw from task/<tid>/io.
func ParseTaskIO(data []byte) (syscr, syscw uint64, err error) {
	var seenR, seenW bool
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "syscr" && key != "syscw") {
			continue
		}
		v, perr := strconv.ParseUint(strings.TrimSpace(val), 10, 64)
		if perr != nil {
			return 0, 0, fmt.Errorf("io line %q: %w", quote(sc.Bytes()), ErrMalformed)
		}
		if key == "syscr" {
			syscr, seenR = v, true
		} else {
			syscw, seenW = v, true
		}
	}
	if !seenR || !seenW {
		return 0, 0, fmt.Errorf("io %q: no syscr/syscw lines: %w", quote(data), ErrMalformed)
	}
	return syscr, syscw, nil
}

// ParseCtxtSwitches reads voluntary_ctxt_switches and nonvoluntary_ctxt_switches from a
// status file.
func ParseCtxtSwitches(data []byte) (voluntary, nonvoluntary uint64, err error) {
	var seenV, seenN bool
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "voluntary_ctxt_switches" && key != "nonvoluntary_ctxt_switches") {
			continue
		}
		v, perr := strconv.ParseUint(strings.TrimSpace(val), 10, 64)
		if perr != nil {
			return 0, 0, fmt.Errorf("status line %q: %w", quote(sc.Bytes()), ErrMalformed)
		}
		if key == "voluntary_ctxt_switches" {
			voluntary, seenV = v, true
		} else {
			nonvoluntary, seenN = v, true
		}
	}
	if !seenV || !seenN {
		return 0, 0, fmt.Errorf("status: no ctxt_switches lines: %w", ErrMalformed)
	}
	return voluntary, nonvoluntary, nil
}

// ParseSchedstat reads task/<tid>/schedstat: "<ns on cpu> <ns waiting on a runqueue>
// <timeslices>" (Documentation/scheduler/sched-stats.rst).
func ParseSchedstat(data []byte) (runNS, waitNS uint64, err error) {
	f := bytes.Fields(data)
	if len(f) != 3 {
		return 0, 0, fmt.Errorf("schedstat %q: want 3 fields: %w", quote(data), ErrMalformed)
	}
	if runNS, err = strconv.ParseUint(string(f[0]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("schedstat %q: %w", quote(data), ErrMalformed)
	}
	if waitNS, err = strconv.ParseUint(string(f[1]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("schedstat %q: %w", quote(data), ErrMalformed)
	}
	if _, err = strconv.ParseUint(string(f[2]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("schedstat %q: %w", quote(data), ErrMalformed)
	}
	return runNS, waitNS, nil
}
