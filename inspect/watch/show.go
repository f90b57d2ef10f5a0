package watch

import (
	"bytes"
	"fmt"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/report"
)

// write writes buf to the output in one write.
func (r *run) write(buf *bytes.Buffer) error {
	if _, err := r.o.Out.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// show prints a sample as the view shows it, and the warnings that came with it unless a
// live frame would clear them at once (they wait for the summary).
func (r *run) show(s *model.Sample) error {
	var buf bytes.Buffer
	switch r.o.View {
	case ViewLive:
		if r.o.TermWidth != nil {
			// A resized terminal is redrawn at its new width (TIOCGWINSZ each frame:
			// one ioctl, cheaper than tracking SIGWINCH).
			if w := r.o.TermWidth(); w > 0 {
				r.o.Render.Width = w
			}
		}
		buf.WriteString(clearScreen)
		if err := report.RenderWatchFrame(&buf, r.samples, r.o.Render); err != nil {
			return err
		}
	case ViewJSONLines:
		if err := report.RenderSampleLine(&buf, s); err != nil {
			return err
		}
	case ViewPlainLines:
		if err := report.RenderSamplePlain(&buf, s); err != nil {
			return err
		}
	}
	if err := r.write(&buf); err != nil {
		return err
	}
	if r.o.View != ViewLive {
		r.o.Warn(r.sink.Drain())
	}
	return nil
}

// showSummary prints the summary: JSON after JSON lines, after a blank line below a live
// frame or plain lines.
func (r *run) showSummary(sum *model.WatchSummary) error {
	opt := r.o.Render
	if r.o.View == ViewJSONLines {
		opt.Format = report.FormatJSON
	}
	var buf bytes.Buffer
	if r.o.View == ViewLive || r.o.View == ViewPlainLines {
		buf.WriteString("\n")
	}
	if err := report.RenderWatchSummary(&buf, sum, opt); err != nil {
		return err
	}
	return r.write(&buf)
}

// clearScreen moves the cursor home and clears the terminal (ECMA-48 CUP and ED).
const clearScreen = "\x1b[H\x1b[2J"
