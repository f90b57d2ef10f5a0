package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// RenderStack writes the `stack` document: per thread its state and its distinct stacks,
// hottest first, innermost frame first (the order of a JavaScript stack trace).
func RenderStack(w io.Writer, d *model.StackDoc, opt Options) error {
	if d == nil {
		return fmt.Errorf("render stack: no document")
	}
	return renderFormats(w, "stack", opt, func() any { return d }, func(r *renderer) { r.markdownStack(d) }, func(r *renderer) error { r.textStack(d); return nil })
}

// FrameText is one frame as a stack trace line shows it: "fn (path:line:column)", with
// the generated position after a mapped one.
func FrameText(f model.Frame) string {
	s := fmt.Sprintf("%s (%s:%d:%d)", safe(f.Function), safe(f.URL), f.Line, f.Column)
	if f.Mapped && f.Generated != nil {
		s += fmt.Sprintf(" [mapped from %s:%d:%d]", safe(f.Generated.URL), f.Generated.Line, f.Generated.Column)
	}
	return s
}

// threadHeading is "main: running, 9 of 10 pauses answered".
func threadHeading(t model.StackThread) string {
	s := safe(t.Thread) + ": " + safe(t.State)
	if t.Samples > 1 {
		s += fmt.Sprintf(", %d of %d pauses answered", t.Answered, t.Samples)
	}
	if t.Note != "" {
		s += " (" + safe(t.Note) + ")"
	}
	return s
}

// stackCountText is "9 of 10 samples" for a sampled stack ("" for a single pause).
func stackCountText(t model.StackThread, s model.StackSample) string {
	if t.Samples <= 1 {
		return ""
	}
	return fmt.Sprintf("%d of %d samples", s.Count, t.Samples)
}

// anyMapped reports whether a frame of d was source-mapped.
func anyMapped(d *model.StackDoc) bool {
	for _, t := range d.Threads {
		for _, s := range t.Stacks {
			for _, f := range s.Frames {
				if f.Mapped {
					return true
				}
			}
		}
	}
	return false
}

// positionsNote says whether positions are source-mapped or as generated.
func positionsNote(d *model.StackDoc) string {
	if anyMapped(d) {
		return "positions: original source where marked [mapped from ...], generated elsewhere"
	}
	return "positions: generated (no frame's script has a usable source map)"
}

func (r *renderer) textStack(d *model.StackDoc) {
	r.line(identity(d.Process) + r.sep() + "JavaScript stack" + r.sep() + d.TakenAt.Format("15:04:05 MST"))
	if d.Attach != nil {
		text, st := attachLine(d.Attach)
		r.line(r.paint(st, "attach: "+text))
	}
	for _, t := range d.Threads {
		r.blank()
		r.line(r.paint(styleBold, strings.ToUpper(threadHeading(t)[:1])+threadHeading(t)[1:]))
		for i, s := range t.Stacks {
			if c := stackCountText(t, s); c != "" {
				if i > 0 {
					r.blank()
				}
				r.line("  " + c + ":")
			}
			for _, f := range s.Frames {
				r.line("    at " + FrameText(f))
			}
			if len(s.Frames) == 0 {
				r.line("    (no JavaScript frames)")
			}
		}
	}
	if len(d.Threads) > 0 {
		r.blank()
		r.line(positionsNote(d))
	}
	r.warningsNote(d.Warnings)
}

func (r *renderer) markdownStack(d *model.StackDoc) {
	r.mdHeading("nodeinspect stack: " + markdownEscape(identity(d.Process)))
	if d.Attach != nil {
		text, _ := attachLine(d.Attach)
		r.line("attach: " + markdownEscape(text))
		r.blank()
	}
	for _, t := range d.Threads {
		r.mdSubheading(markdownEscape(threadHeading(t)))
		for _, s := range t.Stacks {
			if c := stackCountText(t, s); c != "" {
				r.line("**" + c + "**")
				r.blank()
			}
			r.line("```")
			for _, f := range s.Frames {
				r.line("at " + strings.ReplaceAll(FrameText(f), "```", "'''"))
			}
			r.line("```")
			r.blank()
		}
	}
	r.line(markdownEscape(positionsNote(d)))
	r.mdWarnings(d.Warnings)
}
