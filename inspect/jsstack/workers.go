package jsstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// Worker threads (stack --workers): the NodeWorker domain attaches to each worker's own
// inspector session inside ours; its messages travel as NodeWorker.sendMessageToWorker and
// NodeWorker.receivedMessageFromWorker.

// errWorkerGone is returned by a worker's calls once it has exited.
var errWorkerGone = errors.New("the worker exited")

// workerSession is one worker's protocol session, carried inside the main session. It
// implements debugTarget.
// session is the main thread's inspector session as the worker dumps use it: commands and
// events, the pump that reads its messages, its per-command timeout, and whether the
// process is exiting.
type session interface {
	debugTarget
	Pump(ctx context.Context) error
	Timeout() time.Duration
	Exiting() bool
}

type workerSession struct {
	s         session
	sessionID string
	id        string // the worker's id ("1")
	nextID    int64
	replies   map[int64]workerReply
	handlers  map[string]func(attach.Event)
	queue     map[string]bool
	queued    []attach.Event
	gone      bool
}

// workerReply is a command's answer from a worker.
type workerReply struct {
	result json.RawMessage
	err    string
}

// workerMessage is a message inside NodeWorker.receivedMessageFromWorker.
type workerMessage struct {
	ID     int64           `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// deliver routes one message of the worker.
func (w *workerSession) deliver(text string) {
	var m workerMessage
	if json.Unmarshal([]byte(text), &m) != nil {
		return
	}
	if m.ID != 0 {
		r := workerReply{result: m.Result}
		if m.Error != nil {
			r.err = m.Error.Message
			if r.err == "" {
				r.err = "error"
			}
		}
		w.replies[m.ID] = r
		return
	}
	ev := attach.Event{Method: m.Method, Params: m.Params, SessionID: w.sessionID}
	if fn := w.handlers[m.Method]; fn != nil {
		fn(ev)
	} else if w.queue[m.Method] {
		w.queued = append(w.queued, ev)
	}
}

// Call sends a command to the worker and waits for its answer.
func (w *workerSession) Call(ctx context.Context, method string, params, result any) error {
	if w.gone {
		return errWorkerGone
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.s.Timeout())
		defer cancel()
	}
	w.nextID++
	id := w.nextID
	msg, err := json.Marshal(struct {
		ID     int64  `json:"id"`
		Method string `json:"method"`
		Params any    `json:"params,omitempty"`
	}{id, method, params})
	if err != nil {
		return fmt.Errorf("encode %s: %w", method, err)
	}
	if err := w.s.Call(ctx, "NodeWorker.sendMessageToWorker", map[string]string{"message": string(msg), "sessionId": w.sessionID}, nil); err != nil {
		return fmt.Errorf("send %s to worker %s: %w", method, w.id, err)
	}
	for {
		if r, ok := w.replies[id]; ok {
			delete(w.replies, id)
			if r.err != "" {
				return fmt.Errorf("%s: inspector error: %s", method, r.err)
			}
			if result != nil && len(r.result) > 0 {
				return json.Unmarshal(r.result, result)
			}
			return nil
		}
		if w.gone {
			return errWorkerGone
		}
		if err := w.s.Pump(ctx); err != nil {
			return fmt.Errorf("wait for the answer to %s from worker %s: %w", method, w.id, err)
		}
	}
}

// Subscribe asks for the worker's events of method (nil fn: queued for NextEvent).
func (w *workerSession) Subscribe(method string, fn func(attach.Event)) {
	if fn != nil {
		w.handlers[method] = fn
		return
	}
	w.queue[method] = true
}

// NextEvent waits for the worker's next queued event, reading the main session meanwhile.
func (w *workerSession) NextEvent(ctx context.Context) (attach.Event, error) {
	for {
		if len(w.queued) > 0 {
			ev := w.queued[0]
			w.queued = w.queued[1:]
			return ev, nil
		}
		if w.gone {
			return attach.Event{}, errWorkerGone
		}
		if err := w.s.Pump(ctx); err != nil {
			return attach.Event{}, err
		}
	}
}

// DumpWorkers attaches to every worker of the process and samples each like the main
// thread. A worker that exits during the dump keeps what was sampled and says so.
func (st *Sampler) DumpWorkers(ctx context.Context, s session) ([]model.StackThread, error) {
	workers := map[string]*workerSession{}
	var order []*workerSession
	s.Subscribe("NodeWorker.attachedToWorker", func(ev attach.Event) {
		var p struct {
			SessionID  string `json:"sessionId"`
			WorkerInfo struct {
				WorkerID string `json:"workerId"`
			} `json:"workerInfo"`
		}
		if json.Unmarshal(ev.Params, &p) != nil || p.SessionID == "" {
			return
		}
		w := &workerSession{s: s, sessionID: p.SessionID, id: p.WorkerInfo.WorkerID, replies: map[int64]workerReply{},
			handlers: map[string]func(attach.Event){}, queue: map[string]bool{}}
		workers[p.SessionID] = w
		order = append(order, w)
	})
	s.Subscribe("NodeWorker.detachedFromWorker", func(ev attach.Event) {
		var p struct {
			SessionID string `json:"sessionId"`
		}
		if json.Unmarshal(ev.Params, &p) == nil && workers[p.SessionID] != nil {
			workers[p.SessionID].gone = true
		}
	})
	s.Subscribe("NodeWorker.receivedMessageFromWorker", func(ev attach.Event) {
		var p struct {
			SessionID string `json:"sessionId"`
			Message   string `json:"message"`
		}
		if json.Unmarshal(ev.Params, &p) == nil && workers[p.SessionID] != nil {
			workers[p.SessionID].deliver(p.Message)
		}
	})
	if err := s.Call(ctx, "NodeWorker.enable", map[string]bool{"waitForDebuggerOnStart": false}, nil); err != nil {
		return nil, fmt.Errorf("list the worker threads (NodeWorker.enable): %w", err)
	}
	// The attachedToWorker events follow the answer: read what has arrived.
	settle, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	for settle.Err() == nil {
		if err := s.Pump(settle); err != nil {
			break
		}
	}
	cancel()
	sort.SliceStable(order, func(i, j int) bool { return workerOrder(order[i].id) < workerOrder(order[j].id) })
	var threads []model.StackThread
	for _, w := range order {
		th := model.StackThread{Thread: "worker " + w.id, Stacks: []model.StackSample{}}
		tid := st.workerTID(ctx, w)
		state := func() string {
			if tid == 0 {
				return "unknown"
			}
			return st.threadStateOf(tid)
		}
		err := st.Sample(ctx, w, &th, state)
		switch {
		case errors.Is(err, errWorkerGone) || w.gone:
			th.Note = strings.TrimPrefix(th.Note+"; ", "; ") + "the worker exited during the dump"
			th.State = "exited"
		case err != nil && ctx.Err() != nil:
			return threads, err
		case err != nil:
			st.Warnings = append(st.Warnings, fmt.Sprintf("worker %s: %v", w.id, err))
		}
		threads = append(threads, th)
	}
	if len(order) == 0 {
		st.Warnings = append(st.Warnings, "--workers: the process has no worker threads")
	}
	return threads, nil
}

// workerOrder sorts worker ids numerically.
func workerOrder(id string) int {
	n, err := strconv.Atoi(id)
	if err != nil {
		return 1 << 30
	}
	return n
}

// workerTID asks the worker which thread it runs on (/proc/thread-self, a read), so its
// state can be read from /proc; 0 when it cannot tell.
func (st *Sampler) workerTID(ctx context.Context, w *workerSession) int {
	var res struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
	}
	expr := `(() => { try { const fs = (typeof process.getBuiltinModule === 'function') ? process.getBuiltinModule('fs') : require('fs'); return fs.readlinkSync('/proc/thread-self'); } catch (e) { return ''; } })()`
	if err := w.Call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "silent": true, "includeCommandLineAPI": true}, &res); err != nil {
		return 0
	}
	_, tid, ok := strings.Cut(res.Result.Value, "/task/")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(tid)
	return n
}

// threadStateOf reads a worker thread's state once from /proc.
func (st *Sampler) threadStateOf(tid int) string {
	s, err := st.fs.SampleThread(context.Background(), st.pid, tid, 0, time.Millisecond)
	if err != nil || s.Samples == 0 {
		return "unknown"
	}
	for what := range s.Counts {
		return SyscallState(what)
	}
	return "unknown"
}

// Exiting reports whether the process is exiting (and waits for our session to leave).
func (w *workerSession) Exiting() bool { return w.s.Exiting() }
