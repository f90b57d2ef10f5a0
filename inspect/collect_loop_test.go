package inspect

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/probes"
)

func u64p(v uint64) *uint64 { return &v }

// counters builds task counters: syscr+syscw = calls, schedstat run/wait in ms.
func counters(calls uint64, runMS, waitMS uint64, ticks uint64) probes.TaskCounters {
	return probes.TaskCounters{SysCR: u64p(calls), SysCW: u64p(0), Voluntary: u64p(1), Nonvoluntary: u64p(1),
		RunNS: u64p(runMS * 1e6), WaitNS: u64p(waitMS * 1e6), CPUTicks: ticks}
}

func TestEventLoopFromSamples(t *testing.T) {
	running := &probes.SyscallCall{SyscallSample: probes.SyscallSample{Running: true, Nr: -1}}
	futex := &probes.SyscallCall{SyscallSample: probes.SyscallSample{Nr: 202}, Args: []uint64{1, 2, 3, 4, 5, 6}}
	base := func(counts map[string]int, startCalls, endCalls uint64, steps int, runMS, waitMS uint64) probes.LoopSamples {
		n := 0
		for _, v := range counts {
			n += v
		}
		return probes.LoopSamples{Samples: n, Counts: counts, Source: "syscall", Elapsed: 300 * time.Millisecond,
			Start: counters(startCalls, 0, 0, 0), End: counters(endCalls, runMS, waitMS, runMS/10),
			ProgressSteps: steps, EpollWaits: map[int]int{}, OtherEpoll: map[int]bool{}, Calls: 1, First: running}
	}
	for _, tc := range []struct {
		name            string
		s               probes.LoopSamples
		wait            *SpawnSyncWait
		verdict, reason string
	}{
		{"idle in the loop's epoll", func() probes.LoopSamples {
			s := base(map[string]int{"epoll": 60}, 10, 10, 0, 1, 0)
			s.EpollWaits[14] = 60
			return s
		}(), nil, "turning", "idle"},
		{"busy server: calls all through the window", base(map[string]int{"running": 60}, 10, 1000, 50, 200, 10), nil, "turning", "progress"},
		{"saturated: calls, busy 97%", base(map[string]int{"running": 60}, 10, 1000, 50, 250, 40), nil, "saturated", "progress"},
		{"busy counting the CPU wait, but idle in the loop's epoll in a third of the samples", func() probes.LoopSamples {
			s := base(map[string]int{"running": 40, "epoll": 20}, 10, 1000, 50, 100, 190)
			s.EpollWaits[14] = 20
			return s
		}(), nil, "turning", "idle"},
		{"one stray write is no progress", base(map[string]int{"running": 60}, 10, 11, 1, 300, 0), nil, "blocked", "no_syscalls"},
		{"busy loop: no calls", base(map[string]int{"running": 60}, 10, 10, 0, 300, 0), nil, "blocked", "no_syscalls"},
		{"futex the whole window", func() probes.LoopSamples {
			s := base(map[string]int{"futex": 60}, 10, 10, 0, 0, 0)
			s.First = futex
			return s
		}(), nil, "blocked", "one_syscall"},
		{"garbage collector's futexes and mmaps, no reads", base(map[string]int{"running": 50, "futex": 5, "syscall:9": 5}, 10, 10, 0, 290, 0), nil, "blocked", "no_syscalls"},
		{"private epoll", func() probes.LoopSamples {
			s := base(map[string]int{"epoll": 60}, 10, 10, 0, 0, 0)
			s.EpollWaits[20] = 60
			return s
		}(), &SpawnSyncWait{Private: map[int]bool{20: true}, Children: []model.WaitedChild{{PID: 7, Command: "sleep 20"}}}, "blocked", "spawn_sync"},
		{"private epoll, then the loop's", func() probes.LoopSamples {
			s := base(map[string]int{"epoll": 60}, 10, 10, 0, 0, 0)
			s.EpollWaits[20], s.EpollWaits[14] = 30, 30
			return s
		}(), &SpawnSyncWait{Private: map[int]bool{20: true}}, "turning", "idle"},
		{"no privilege", func() probes.LoopSamples {
			s := base(map[string]int{"sleeping": 60}, 0, 0, 0, 0, 0)
			s.Source, s.SyscallDenied = "wchan", true
			s.Start.SysCR, s.End.SysCR = nil, nil
			return s
		}(), nil, "unknown", "no_privilege"},
		{"syscall file missing, wchan only", func() probes.LoopSamples {
			s := base(map[string]int{"sleeping": 60}, 10, 10, 0, 0, 0)
			s.Source = "wchan"
			return s
		}(), nil, "unknown", "no_syscall_file"},
		{"starved: runnable, 5 ms on a CPU, no calls", base(map[string]int{"running": 60}, 10, 10, 0, 5, 295), nil, "unknown", "starved"},
		{"busy loop on a crowded host: 40 ms on a CPU, no calls", base(map[string]int{"running": 60}, 10, 10, 0, 40, 260), nil, "blocked", "no_syscalls"},
		{"too few samples", base(map[string]int{"running": 3}, 10, 10, 0, 300, 0), nil, "unknown", "too_few_samples"},
		{"stopped", base(map[string]int{"stopped": 60}, 10, 10, 0, 0, 0), nil, "blocked", "stopped"},
		{"no counters, one call", func() probes.LoopSamples {
			s := base(map[string]int{"futex": 60}, 10, 10, 0, 0, 0)
			s.Start.SysCR, s.End.SysCR, s.First = nil, nil, futex
			return s
		}(), nil, "blocked", "one_syscall"},
		{"no counters, running", func() probes.LoopSamples {
			s := base(map[string]int{"running": 60}, 10, 10, 0, 300, 0)
			s.Start.SysCR, s.End.SysCR = nil, nil
			return s
		}(), nil, "unknown", "no_counters"},
		{"busy from ticks in a short window is not saturation", func() probes.LoopSamples {
			s := base(map[string]int{"running": 60}, 10, 1000, 50, 300, 0)
			s.Start.RunNS, s.End.RunNS = nil, nil
			s.CPUTicks = 30
			return s
		}(), nil, "turning", "progress"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, warnings := EventLoopFromSamples(42, tc.s, tc.wait)
			if l.Verdict != tc.verdict || l.Reason != tc.reason {
				t.Fatalf("verdict %s/%s, want %s/%s (warnings %q)", l.Verdict, l.Reason, tc.verdict, tc.reason, warnings)
			}
			if tc.verdict == "unknown" && len(warnings) == 0 {
				t.Errorf("an unknown verdict must say why")
			}
			if tc.reason == "no_privilege" && (l.SyscallsPerSecond != nil || !strings.Contains(warnings[0], "sudo")) {
				t.Errorf("no privilege: rate %v, warnings %q", l.SyscallsPerSecond, warnings)
			}
			f := rules.Evaluate(&model.Snapshot{EventLoop: l}, rules.EvalContext{})
			got := codes(f)
			want := map[string]string{"blocked": "EVENT_LOOP_BLOCKED:warning", "saturated": "EVENT_LOOP_SATURATED:warning"}[tc.verdict]
			if got != want {
				t.Errorf("findings %q, want %q", got, want)
			}
		})
	}
}

// TestSpawnSyncOnFakeTrees: the private loop of execSync is told from the event loop by
// the epoll fds below it, and the child is named through its stdio socketpair; the event
// loop watching an async child's stdio is still the event loop.
func TestSpawnSyncOnFakeTrees(t *testing.T) {
	root := filepath.Join("..", "testdata", "proc")
	c := NewCollector(probes.NewFS(filepath.Join(root, "spawnsync")))
	c.UserName = func(int) string { return "app" }
	snap, err := c.Collect(context.Background(), 5100, Options{Sections: SectionLoop, Sample: 60 * time.Millisecond, SampleEvery: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	l := snap.EventLoop
	if l == nil || l.Verdict != "blocked" || l.Reason != "spawn_sync" || len(l.WaitingFor) != 1 || l.WaitingFor[0].PID != 5101 || l.WaitingFor[0].Command != "/bin/sh -c sleep 20" {
		t.Fatalf("event loop %+v", l)
	}
	if codes(snap.Findings) != "EVENT_LOOP_BLOCKED:warning" || !strings.Contains(snap.Findings[0].Summary, "5101 (/bin/sh -c sleep 20)") {
		t.Errorf("findings %q: %s", codes(snap.Findings), snap.Findings[0].Summary)
	}

	c = NewCollector(probes.NewFS(filepath.Join(root, "async-child")))
	c.UserName = func(int) string { return "app" }
	snap, err = c.Collect(context.Background(), 5200, Options{Sections: SectionLoop, Sample: 60 * time.Millisecond, SampleEvery: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if l := snap.EventLoop; l == nil || l.Verdict != "turning" || l.Reason != "idle" || len(snap.Findings) != 0 {
		t.Fatalf("async child: event loop %+v, findings %q", l, codes(snap.Findings))
	}
}

func TestResolveThread(t *testing.T) {
	root := t.TempDir()
	for pid, tgid := range map[string]string{"10": "10", "11": "10"} {
		dir := filepath.Join(root, pid)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "status"), []byte("Name:\tnode\nTgid:\t"+tgid+"\nPid:\t"+pid+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := NewCollector(probes.NewFS(root))
	if got, note := c.ResolveThread(11); got != 10 || !strings.Contains(note, "11 is a thread of process 10") {
		t.Errorf("thread 11: %d %q", got, note)
	}
	for _, pid := range []int{10, 99} {
		if got, note := c.ResolveThread(pid); got != pid || note != "" {
			t.Errorf("pid %d: %d %q", pid, got, note)
		}
	}
}
