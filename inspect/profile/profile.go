package profile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/session"
	"github.com/nodeinspect/nodeinspect/inspect/v8prof"
)

// pollEvery is how often a recording asks the target a cheap question (Runtime.getIsolateId,
// answered by V8 without running JavaScript) so that events (the target exiting) are read
// while it waits: 5 tiny messages a second.
const pollEvery = 200 * time.Millisecond

// CPUSegment is the longest single Profiler.start/stop of a long profile: each stop's
// answer grows with the samples (about 15 bytes each), and a 5-minute segment at 1 ms stays
// far below the 64 MiB a reply may have; the gap between segments is one stop's
// serialisation (milliseconds).
const CPUSegment = 5 * time.Minute

// watchExit asks the target to say when it is about to exit with our session connected
// (Node then waits for the debugger to disconnect): the recording ends at once, with what
// it has, so the target is not held.
func watchExit(ctx context.Context, s *session.Session) *bool {
	exiting := new(bool)
	s.Subscribe("NodeRuntime.waitingForDisconnect", func(attach.Event) { *exiting = true })
	// Older Node versions lack it: the process poll below still sees an exit.
	_ = s.Call(ctx, "NodeRuntime.notifyWhenWaitingForDisconnect", map[string]bool{"enabled": true}, nil)
	return exiting
}

// waitRecording waits until d has passed, ctx is cancelled, or the target exits, reading
// the target's events meanwhile.
func waitRecording(ctx context.Context, s *session.Session, d time.Duration, exiting *bool) (model.ProfileEnd, error) {
	deadline := time.Now().Add(d)
	for {
		if *exiting {
			return model.EndExiting, nil
		}
		if s.Exited() {
			return model.EndGone, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return model.EndDuration, nil
		}
		t := time.NewTimer(min(left, pollEvery))
		select {
		case <-ctx.Done():
			t.Stop()
			return model.EndInterrupted, nil
		case <-t.C:
		}
		// The poll must not be cut short by Ctrl-C: a cancelled read closes the session.
		poll, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.Timeout())
		err := s.Call(poll, "Runtime.getIsolateId", nil, nil)
		cancel()
		if err != nil && !session.IsProtocolError(err) {
			if s.Exited() {
				return model.EndGone, nil
			}
			return "", fmt.Errorf("the inspector stopped answering during the recording: %w", err)
		}
	}
}

// goneSoon reports whether the target is gone or goes within half a second: a connection
// that broke because the target was killed (the OOM killer, a signal) breaks a moment
// before /proc shows it.
func goneSoon(s *session.Session) bool {
	for i := 0; i < 10; i++ {
		if s.Exited() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s.Exited()
}

// stopContext is the context of a stop: it survives Ctrl-C (the stop is how an
// interrupted profile is still written) and allows serialising a large answer.
func stopContext(ctx context.Context, s *session.Session) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), max(30*time.Second, 4*s.Timeout()))
}

// RecordCPU profiles the target's main thread for d at the given sampling interval
// (segments of at most segment, CPUSegment when 0, merged). It returns what was recorded even when the
// recording ended early (see ProfileEnd); with an error and a profile, the profile is the
// part received before the error.
func RecordCPU(ctx context.Context, s *session.Session, d, interval, segment time.Duration) (*v8prof.CPUProfile, model.ProfileEnd, error) {
	if segment <= 0 {
		segment = CPUSegment
	}
	exiting := watchExit(ctx, s)
	if err := s.Call(ctx, "Profiler.enable", nil, nil); err != nil {
		return nil, "", fmt.Errorf("enable the profiler: %w", err)
	}
	us := max(1, interval.Microseconds())
	if err := s.Call(ctx, "Profiler.setSamplingInterval", map[string]int64{"interval": us}, nil); err != nil {
		return nil, "", fmt.Errorf("set the sampling interval to %d µs: %w", us, err)
	}
	var parts []*v8prof.CPUProfile
	merged := func() *v8prof.CPUProfile {
		if len(parts) == 0 {
			return nil
		}
		m, err := v8prof.MergeCPUProfiles(parts...)
		if err != nil {
			return parts[0]
		}
		return m
	}
	left := d
	for {
		if err := s.Call(ctx, "Profiler.start", nil, nil); err != nil {
			return merged(), "", fmt.Errorf("start the profiler: %w", err)
		}
		seg := min(left, segment)
		started := time.Now()
		end, waitErr := waitRecording(ctx, s, seg, exiting)
		left -= time.Since(started)
		stop, cancel := stopContext(ctx, s)
		var res struct {
			Profile json.RawMessage `json:"profile"`
		}
		err := s.Call(stop, "Profiler.stop", nil, &res)
		cancel()
		if err != nil {
			if waitErr != nil {
				err = waitErr
			}
			if goneSoon(s) {
				return merged(), model.EndGone, fmt.Errorf("process %d exited before the profile could be read: %w", s.PID(), model.ErrNoProcess)
			}
			return merged(), end, fmt.Errorf("stop the profiler: %w", err)
		}
		p, err := v8prof.ParseCPUProfile(res.Profile)
		if err != nil {
			return merged(), end, fmt.Errorf("the profiler's answer: %w", err)
		}
		parts = append(parts, p)
		if end != model.EndDuration || left <= 0 || waitErr != nil {
			return merged(), end, waitErr
		}
	}
}

// RecordHeapSampling samples the target's allocations for d (one sample per
// samplingBytes allocated on average, V8's default is 32 KiB) and returns the allocation
// sites of what is still alive at the end.
func RecordHeapSampling(ctx context.Context, s *session.Session, d time.Duration, samplingBytes int64) (*v8prof.HeapProfile, model.ProfileEnd, error) {
	exiting := watchExit(ctx, s)
	if err := s.Call(ctx, "HeapProfiler.enable", nil, nil); err != nil {
		return nil, "", fmt.Errorf("enable the heap profiler: %w", err)
	}
	if err := s.Call(ctx, "HeapProfiler.startSampling", map[string]int64{"samplingInterval": samplingBytes}, nil); err != nil {
		return nil, "", fmt.Errorf("start heap sampling: %w", err)
	}
	end, waitErr := waitRecording(ctx, s, d, exiting)
	stop, cancel := stopContext(ctx, s)
	defer cancel()
	var res struct {
		Profile json.RawMessage `json:"profile"`
	}
	if err := s.Call(stop, "HeapProfiler.stopSampling", nil, &res); err != nil {
		if goneSoon(s) {
			return nil, model.EndGone, fmt.Errorf("process %d exited before the heap profile could be read: %w", s.PID(), model.ErrNoProcess)
		}
		if waitErr != nil {
			err = waitErr
		}
		return nil, end, fmt.Errorf("stop heap sampling: %w", err)
	}
	h, err := v8prof.ParseHeapProfile(res.Profile)
	if err != nil {
		return nil, end, fmt.Errorf("the heap profiler's answer: %w", err)
	}
	h.SamplingInterval = samplingBytes
	return h, end, waitErr
}

// HeapUsage asks V8 for its heap used and total (Runtime.getHeapUsage: answered by the
// inspector, no JavaScript runs).
func HeapUsage(ctx context.Context, s *session.Session) (used, total uint64, err error) {
	var res struct {
		UsedSize  float64 `json:"usedSize"`
		TotalSize float64 `json:"totalSize"`
	}
	if err := s.Call(ctx, "Runtime.getHeapUsage", nil, &res); err != nil {
		return 0, 0, fmt.Errorf("read the heap usage: %w", err)
	}
	return uint64(res.UsedSize), uint64(res.TotalSize), nil
}

// SnapshotTimeout bounds a heap snapshot: V8 writes a few hundred MB a minute on a loaded
// machine; a larger heap than that needs --snapshot-timeout.
const SnapshotTimeout = 10 * time.Minute

// TakeHeapSnapshot streams a full heap snapshot of the target into w, chunk by chunk as
// the inspector sends them (nothing is written inside the target). It returns the bytes
// written. The target's main thread is paused while V8 walks the heap.
func TakeHeapSnapshot(ctx context.Context, s *session.Session, w io.Writer, timeout time.Duration) (int64, error) {
	if err := s.Call(ctx, "HeapProfiler.enable", nil, nil); err != nil {
		return 0, fmt.Errorf("enable the heap profiler: %w", err)
	}
	var n int64
	var werr error
	s.Subscribe("HeapProfiler.addHeapSnapshotChunk", func(ev attach.Event) {
		if werr != nil {
			return
		}
		var p struct {
			Chunk string `json:"chunk"`
		}
		if err := json.Unmarshal(ev.Params, &p); err != nil {
			werr = fmt.Errorf("decode a snapshot chunk: %w", err)
			return
		}
		k, err := io.WriteString(w, p.Chunk)
		n += int64(k)
		if err != nil {
			werr = fmt.Errorf("write the snapshot: %w", err)
		}
	})
	if timeout <= 0 {
		timeout = SnapshotTimeout
	}
	// Ctrl-C ends the wait (and the session): V8 finishes the walk and drops the rest.
	call, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := s.Call(call, "HeapProfiler.takeHeapSnapshot", map[string]bool{"reportProgress": false}, nil)
	if werr != nil {
		return n, werr
	}
	if err != nil {
		if goneSoon(s) {
			return n, fmt.Errorf("process %d exited during the snapshot (killed? a snapshot can need as much memory again as the heap): %w", s.PID(), model.ErrNoProcess)
		}
		if errors.Is(err, attach.ErrNoAnswer) && ctx.Err() == nil {
			return n, fmt.Errorf("the snapshot took longer than %s: %w", timeout, err)
		}
		return n, fmt.Errorf("take the heap snapshot: %w", err)
	}
	return n, nil
}
