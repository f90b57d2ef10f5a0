package report

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// RenderProfile writes the document of `nodeinspect profile` in one Write call: JSON, or
// the top functions and the hottest stack as text (table, plain and markdown alike: the
// columns are whitespace-separated, so awk keeps working).
func RenderProfile(w io.Writer, d *model.ProfileDoc, opt Options) error {
	return renderDocument(w, d, &d.Warnings, func(buf *bytes.Buffer) { textProfile(buf, d) }, opt)
}

// renderDocument is the one shape of RenderProfile and RenderHeap: doc as JSON (its
// warnings [] rather than null) or as text, rendered into a buffer and written once.
func renderDocument(w io.Writer, doc any, warnings *[]string, text func(*bytes.Buffer), opt Options) error {
	var buf bytes.Buffer
	if opt.Format == FormatJSON {
		if *warnings == nil {
			*warnings = []string{}
		}
		if err := writeJSON(&buf, doc, opt.CompactJSON); err != nil {
			return err
		}
	} else {
		text(&buf)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func processTitle(p *model.Process) string {
	if p == nil {
		return ""
	}
	return " of " + identity(p)
}

func ms(v float64) string {
	switch {
	case v >= 10000:
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + "s"
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + "s"
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 0, 64) + "ms"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "ms"
}

func pct(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + "%" }

func location(url string, line int) string {
	if url == "" {
		return "-"
	}
	return safe(url) + ":" + strconv.Itoa(line)
}

func textProfile(buf *bytes.Buffer, d *model.ProfileDoc) {
	p := d.Profile
	fmt.Fprintf(buf, "CPU profile%s: %s, %d samples, one every %s\n", processTitle(d.Process), ms(p.DurationMS), p.Samples, ms(p.IntervalUS/1000))
	fmt.Fprintf(buf, "time: JavaScript %s, GC %s, idle %s, V8 outside JavaScript (program) %s\n", pct(p.JSPercent), pct(p.GCPercent), pct(p.IdlePercent), pct(p.ProgramPercent))
	if p.Idle {
		fmt.Fprintf(buf, "idle: the process ran JavaScript or GC in under 1%% of the profile; nothing to rank\n")
	} else {
		fmt.Fprintln(buf, "\ntop functions by self time")
		functionTable(buf, p.Top)
		fmt.Fprintln(buf, "\ntop functions by total time")
		functionTable(buf, p.TopTotal)
		fmt.Fprintf(buf, "\nhottest stack (%s of the time), innermost first\n", pct(p.HottestPercent))
		for _, f := range p.HottestStack {
			fmt.Fprintf(buf, "  %s  %s\n", safe(f.Function), location(f.URL, f.Line))
		}
	}
	if d.File != nil {
		fmt.Fprintf(buf, "\nwritten to %s\n", safe(*d.File))
	}
}

func functionTable(buf *bytes.Buffer, rows []model.ProfileFunction) {
	tw := tabwriter.NewWriter(buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SELF\tSELF%\tTOTAL\tTOTAL%\tSAMPLES\tFUNCTION\tLOCATION")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", ms(r.SelfMS), pct(r.SelfPercent), ms(r.TotalMS), pct(r.TotalPercent), r.SelfSamples, cellWord(r.Function), location(r.URL, r.Line))
	}
	tw.Flush()
}

// cellWord keeps a table cell one whitespace-free word.
func cellWord(s string) string {
	s = safe(s)
	if s == "" {
		return "-"
	}
	return strings.Join(strings.Fields(s), "_")
}

// RenderHeap writes the document of `nodeinspect heap` or `analyze FILE.heapsnapshot`.
func RenderHeap(w io.Writer, d *model.HeapDoc, opt Options) error {
	return renderDocument(w, d, &d.Warnings, func(buf *bytes.Buffer) { textHeap(buf, d) }, opt)
}

func textHeap(buf *bytes.Buffer, d *model.HeapDoc) {
	h := d.Heap
	tw := tabwriter.NewWriter(buf, 0, 0, 2, ' ', 0)
	switch h.Mode {
	case "sampling":
		fmt.Fprintf(buf, "sampling heap profile%s: %s live in sampled allocations\n", processTitle(d.Process), units.Bytes(h.TotalBytes))
		if len(h.Top) == 0 {
			fmt.Fprintln(buf, "no sampled allocation is still alive")
			break
		}
		fmt.Fprintln(buf, "\nallocation sites holding the most live memory")
		fmt.Fprintln(tw, "LIVE\tSHARE\tFUNCTION\tLOCATION")
		for _, r := range h.Top {
			share := 0.0
			if h.TotalBytes > 0 {
				share = 100 * float64(r.SelfBytes) / float64(h.TotalBytes)
			}
			url, line := "", 0
			if r.URL != nil {
				url = *r.URL
			}
			if r.Line != nil {
				line = *r.Line
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cellBytes(r.SelfBytes), pct(share), cellWord(r.Name), location(url, line))
		}
	default:
		what := "heap snapshot" + processTitle(d.Process)
		if d.Process == nil && d.File != nil {
			what = "heap snapshot " + safe(*d.File)
		}
		fmt.Fprintf(buf, "%s: %s reachable", what, units.Bytes(h.TotalBytes))
		if h.Reachable != nil && h.Nodes != nil {
			fmt.Fprintf(buf, " in %d of %d objects", *h.Reachable, *h.Nodes)
		}
		fmt.Fprintln(buf)
		if h.Headroom != nil {
			fmt.Fprintf(buf, "memory check before it: %s\n", safe(h.Headroom.Sentence()))
		}
		if h.PauseMS != nil {
			fmt.Fprintf(buf, "the target was paused for %s while V8 wrote it\n", ms(float64(*h.PauseMS)))
		}
		fmt.Fprintln(buf, "\nobjects by constructor, largest retained size first")
		fmt.Fprintln(tw, "RETAINED\tSELF\tCOUNT\tCONSTRUCTOR")
		for _, r := range h.Top {
			ret, count := notAvailable, notAvailable
			if r.RetainedBytes != nil {
				ret = cellBytes(*r.RetainedBytes)
			}
			if r.Count != nil {
				count = strconv.Itoa(*r.Count)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ret, cellBytes(r.SelfBytes), count, safe(r.Name))
		}
	}
	tw.Flush()
	if d.File != nil && d.Process != nil {
		fmt.Fprintf(buf, "\nwritten to %s\n", safe(*d.File))
	}
}

// WriteJSONDocument writes any document as the JSON of the contract (indented unless
// compact), for commands whose document has no renderer of its own (arm).
func WriteJSONDocument(buf *bytes.Buffer, v any, compact bool) error {
	return writeJSON(buf, v, compact)
}
