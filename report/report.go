// Package report renders a model.Snapshot or a model.PSResult: a box-drawn table for
// a terminal (coloured when asked), plain stable columns for a pipe, the contract's JSON, or
// a GitHub-flavoured Markdown summary for CI. It never reads /proc, and it is the only place
// where units are formatted (bytes as "1.2 GiB", durations, percentages).
//
// Every rendering goes into a buffer that is written once (stdout gets the report or nothing). Text that
// comes from the process (names, paths, command lines) is escaped before it is printed, so
// a hostile name cannot break a row or send escape codes to the terminal.
//
// Warnings: the CLI prints them on stderr, so the table format ends with a one-line count
// ("2 warnings (see stderr)") instead of repeating them, and plain output, which scripts
// parse, says nothing; Options.Verbose lists them in both. JSON carries them in "warnings"
// (the contract), and Markdown lists them in full, since a CI summary is read without the
// job's stderr.
package report

import (
	"bytes"
	"fmt"
	"io"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// Format is an output format.
type Format string

// The output formats.
const (
	// FormatTable is for people at a terminal: box-drawn tables, colour when Options.Color.
	FormatTable Format = "table"
	// FormatPlain is for people reading through a pipe: aligned columns separated by
	// spaces, one word per cell except the last (so grep and awk work), no colour, no box
	// drawing, ASCII decoration only.
	FormatPlain Format = "plain"
	// FormatJSON is the contract's document (schema nodeinspect/v1), whatever the view.
	FormatJSON Format = "json"
	// FormatMarkdown is a compact GitHub-flavoured summary, for a CI job's step summary.
	FormatMarkdown Format = "markdown"
)

// View is what part of a snapshot the human formats show. JSON always carries the whole
// document.
type View string

// The views, one per command of the contract.
const (
	// ViewReport is everything: the identity, findings first, then every section.
	ViewReport View = "report"
	// ViewFDs is the fd table.
	ViewFDs View = "fds"
	// ViewSockets is the sockets by state and by peer, CLOSE_WAIT first.
	ViewSockets View = "sockets"
	// ViewMem is the memory table and the V8 heap when known.
	ViewMem View = "mem"
	// ViewTree is the child process tree and the orphans.
	ViewTree View = "tree"
	// ViewPS is the one-row-per-process list of `nodeinspect ps` (RenderPS only).
	ViewPS View = "ps"
)

// Options say how to render.
type Options struct {
	// Format is the output format; "" means FormatTable.
	Format Format
	// View is the part to show; "" means ViewReport (ViewPS for RenderPS).
	View View
	// Color turns on ANSI colours; only FormatTable honours it, and false guarantees that
	// no escape code is written.
	Color bool
	// Width is the terminal width in columns, 0 when unknown. FormatTable shortens long
	// names and wraps long sentences to fit it; the other formats ignore it.
	Width int
	// Verbose lists everything the human formats otherwise cut short: warnings, long
	// lists, socket queues and inodes.
	Verbose bool
	// CompactJSON writes JSON on one line instead of indented: the CLI asks for it when
	// stdout is a pipe, where indentation costs more than the rest of a 16k-fd run.
	CompactJSON bool
}

// Render writes snap to w as opt says, in one Write call.
func Render(w io.Writer, snap *model.Snapshot, opt Options) error {
	if snap == nil {
		return fmt.Errorf("render: no snapshot")
	}
	if opt.View == "" {
		opt.View = ViewReport
	}
	if opt.Format == FormatJSON && fastFDs(snap, opt.CompactJSON) {
		// A large table streams: its JSON need not be in memory at once.
		return streamSnapshotJSON(w, snapshotForJSON(snap))
	}
	var buf bytes.Buffer
	buf.Grow(sizeHint(snap))
	if err := generate(&buf, snap, opt); err != nil {
		return err
	}
	return writeOnce(w, endWithOneNewline(&buf))
}

// sizeHint guesses the rendered size of snap (about 230 bytes per fd in JSON, less in the
// other formats), so a table of 16k fds is rendered into one buffer instead of one that
// doubles a dozen times.
func sizeHint(snap *model.Snapshot) int {
	n := 8 << 10
	if snap.FDs != nil {
		n += 256 * len(snap.FDs.List)
	}
	return n
}

// endWithOneNewline trims the blank lines a view may leave at its end: every document ends
// with exactly one newline.
func endWithOneNewline(buf *bytes.Buffer) *bytes.Buffer {
	b := bytes.TrimRight(buf.Bytes(), "\n")
	buf.Truncate(len(b))
	buf.WriteByte('\n')
	return buf
}

// RenderPS writes the result of `nodeinspect ps` to w, rows in the order given (the caller
// sorts, worst first), in one Write call.
func RenderPS(w io.Writer, res *model.PSResult, opt Options) error {
	if res == nil {
		return fmt.Errorf("render ps: no result")
	}
	if opt.View != "" && opt.View != ViewPS {
		return fmt.Errorf("render ps: view %q is for a single process, not for ps", opt.View)
	}
	return renderFormats(w, "ps", opt, func() any { return psForJSON(res) }, func(r *renderer) { r.markdownPS(res) }, func(r *renderer) error { return r.textPS(res) })
}

// renderFormats is the one format switch of the documents with a JSON, a Markdown and a
// text rendering (ps, diff, stack): rendered into a buffer, then written once. jsonDoc is
// called only for JSON.
func renderFormats(w io.Writer, what string, opt Options, jsonDoc func() any, markdown func(*renderer), text func(*renderer) error) error {
	var buf bytes.Buffer
	r := newRenderer(&buf, opt)
	switch r.format {
	case FormatJSON:
		if err := writeJSON(&buf, jsonDoc(), opt.CompactJSON); err != nil {
			return err
		}
	case FormatMarkdown:
		markdown(r)
	case FormatTable, FormatPlain:
		if err := text(r); err != nil {
			return err
		}
	default:
		return fmt.Errorf("render %s: unknown format %q (want table, plain, json or markdown)", what, opt.Format)
	}
	return writeOnce(w, endWithOneNewline(&buf))
}

// generate is the one switch from format and view to renderer (the shape of
// google/pprof's report.Generate).
func generate(buf *bytes.Buffer, snap *model.Snapshot, opt Options) error {
	r := newRenderer(buf, opt)
	switch opt.Format {
	case FormatJSON:
		return writeSnapshotJSON(buf, snapshotForJSON(snap), opt.CompactJSON)
	case FormatMarkdown:
		switch opt.View {
		case ViewReport:
			r.markdownReport(snap)
		case ViewFDs:
			r.markdownFDs(snap)
		case ViewSockets:
			r.markdownSockets(snap)
		case ViewMem:
			r.markdownMem(snap)
		case ViewTree:
			r.markdownTree(snap)
		default:
			return unknownView(opt.View)
		}
		return nil
	case FormatTable, FormatPlain, "":
		switch opt.View {
		case ViewReport:
			r.textReport(snap)
			return nil
		case ViewFDs:
			return r.textFDs(snap)
		case ViewSockets:
			return r.textSockets(snap)
		case ViewMem:
			return r.textMem(snap)
		case ViewTree:
			r.textTree(snap)
			return nil
		}
		return unknownView(opt.View)
	}
	return fmt.Errorf("render: unknown format %q (want table, plain, json or markdown)", opt.Format)
}

func unknownView(v View) error {
	if v == ViewPS {
		return fmt.Errorf("render: view ps needs a ps result (RenderPS), not a snapshot")
	}
	return fmt.Errorf("render: unknown view %q (want report, fds, sockets, mem or tree)", v)
}

// writeOnce writes the rendered buffer in one call.
func writeOnce(w io.Writer, buf *bytes.Buffer) error {
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// renderer holds what every human view needs: where to write and how to decorate.
type renderer struct {
	buf     *bytes.Buffer
	format  Format
	color   bool
	width   int
	verbose bool
	// ascii is true for plain output: decoration (tree branches, arrows, ellipses) is
	// ASCII, so the output reads the same in any locale and in any log viewer.
	ascii bool
}

func newRenderer(buf *bytes.Buffer, opt Options) *renderer {
	format := opt.Format
	if format == "" {
		format = FormatTable
	}
	r := &renderer{buf: buf, format: format, verbose: opt.Verbose}
	switch format {
	case FormatTable:
		r.color = opt.Color
		r.width = opt.Width
	case FormatPlain:
		r.ascii = true
	}
	return r
}

// paint applies a style when colour is on.
func (r *renderer) paint(st style, s string) string { return paint(r.color, st, s) }

// ellipsis is "…", or "..." in plain output.
func (r *renderer) ellipsis() string {
	if r.ascii {
		return "..."
	}
	return "…"
}

// arrow introduces advice: "→", or "->" in plain output.
func (r *renderer) arrow() string {
	if r.ascii {
		return "->"
	}
	return "→"
}

// sep separates the fields of a header line: " · ", or two spaces in plain output.
func (r *renderer) sep() string {
	if r.ascii {
		return "  "
	}
	return " · "
}

// line writes one line of text (already safe and painted).
func (r *renderer) line(s string) {
	r.buf.WriteString(s)
	r.buf.WriteByte('\n')
}

// blank writes an empty line.
func (r *renderer) blank() { r.buf.WriteByte('\n') }

// table writes t in the renderer's format.
func (r *renderer) table(t *table) error { return writeTable(r.buf, t, r) }
