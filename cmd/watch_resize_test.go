package cmd

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// The live view asks the terminal's width before each frame, so a resize is followed.
func TestWatchLiveViewFollowsAResize(t *testing.T) {
	root, pid := scenarioRoot(t, "healthy")
	widths := []int{120, 44}
	calls := 0
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"nodeinspect", "watch", itoa(pid), "--interval", "100ms", "--duration", "350ms"}, Deps{
		Proc: root, Out: &out, Err: &errb, Now: time.Now, IsTTY: true,
		Width: widths[0],
		TermWidth: func() int {
			w := widths[min(calls, len(widths)-1)]
			calls++
			return w
		},
		Getenv: func(string) string { return "" }, UserName: func(int) string { return "app" },
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	frames := strings.Split(out.String(), clearScreen)[1:]
	if len(frames) < 2 || calls != len(frames) {
		t.Fatalf("%d frames, %d width reads", len(frames), calls)
	}
	widest := func(frame string) int {
		w := 0
		for _, l := range strings.Split(frame, "\n") {
			w = max(w, utf8.RuneCountInString(ansi.ReplaceAllString(l, "")))
		}
		return w
	}
	if w := widest(frames[0]); w <= 44 {
		t.Errorf("the first frame, at 120 columns, is only %d wide", w)
	}
	// The summary printed after the last frame is not part of the live view.
	last, _, _ := strings.Cut(frames[len(frames)-1], "\nwatch of pid")
	for i, f := range append(frames[1:len(frames)-1], last) {
		if w := widest(f); w > 44 {
			t.Errorf("after the resize to 44 columns frame %d is %d wide:\n%s", i+1, w, f)
		}
	}
}
