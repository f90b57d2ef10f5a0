package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

func stackFixture() *model.StackDoc {
	closed := true
	return &model.StackDoc{
		Schema:  model.Schema,
		TakenAt: time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC),
		Process: &model.Process{PID: 4242, Comm: "node"},
		Attach:  &model.Attach{Status: "ok", Inspector: "127.0.0.1:9229", SentSignal: true, Closed: &closed, ElapsedMS: 120},
		Threads: []model.StackThread{{
			Thread: "main", State: "running", Samples: 10, Answered: 10,
			Stacks: []model.StackSample{
				{Count: 9, Frames: []model.Frame{
					{Function: "renderReport", URL: "/app/src/report.ts", Line: 42, Column: 3, Mapped: true,
						Generated: &model.FramePosition{URL: "/app/dist/bundle.js", Line: 9, Column: 3}},
					{Function: "processImmediate", URL: "node:internal/timers", Line: 483, Column: 21},
				}},
				{Count: 1, Frames: []model.Frame{{Function: "(anonymous)", URL: "/app/\x1b[31mevil.js", Line: 1, Column: 1}}},
			},
		}, {Thread: "worker 1", State: "idle", Note: "idle, waiting for events", Samples: 1, Stacks: []model.StackSample{}}},
		Warnings: []string{"a warning"},
	}
}

func TestRenderStack(t *testing.T) {
	d := stackFixture()
	for _, f := range []Format{FormatTable, FormatPlain, FormatMarkdown, FormatJSON} {
		var buf bytes.Buffer
		if err := RenderStack(&buf, d, Options{Format: f}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out := buf.String()
		if strings.Contains(out, "\x1b[31m") {
			t.Errorf("%s: a hostile file name reached the output unescaped", f)
		}
		if f == FormatJSON {
			var back model.StackDoc
			if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Threads[0].Stacks[0].Frames[0].Line != 42 {
				t.Errorf("json: %v %s", err, out)
			}
			continue
		}
		for _, want := range []string{"renderReport (/app/src/report.ts:42:3) [mapped from /app/dist/bundle.js:9:3]", "9 of 10 samples", "idle, waiting for events"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: no %q in\n%s", f, want, out)
			}
		}
	}
	if err := RenderStack(&bytes.Buffer{}, nil, Options{}); err == nil {
		t.Error("a nil document rendered")
	}
	if err := RenderStack(&bytes.Buffer{}, d, Options{Format: "xml"}); err == nil {
		t.Error("an unknown format rendered")
	}
}
