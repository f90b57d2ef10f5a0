package report

// This is the only file that imports tablewriter (one file per dependency): a version change of
// the library touches this file alone. Plain and Markdown tables are written here too, so
// every table of every view goes through writeTable.

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	twrenderer "github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// column is one column of a table.
type column struct {
	// title is the header, upper case by convention (FD, TYPE, COMMAND).
	title string
	// right aligns numbers to the right in the boxed table.
	right bool
	// flex marks the column that is shortened with "…" when a boxed table would be wider
	// than the terminal (Options.Width); plain output is never shortened.
	flex bool
}

// cell is one value of a row: its text, already made safe, and how to emphasise it.
type cell struct {
	text  string
	style style
}

// table is a header and rows, rendered the same way by every view.
type table struct {
	cols []column
	rows [][]cell
}

// add appends a row; missing cells are blank.
func (t *table) add(cells ...cell) { t.rows = append(t.rows, cells) }

// txt is an unstyled cell.
func txt(s string) cell { return cell{text: s} }

// styled is a cell with a style.
func styled(s string, st style) cell { return cell{text: s, style: st} }

// plainSeparator is the gap between columns of plain output.
const plainSeparator = "  "

// writeTable renders t in the format of r: a box-drawn table (table), aligned
// whitespace-separated columns with "-" for a blank cell (plain: one word per cell except
// possibly the last, so awk's $N is stable), or a GitHub-flavoured Markdown table.
func writeTable(buf *bytes.Buffer, t *table, r *renderer) error {
	switch r.format {
	case FormatMarkdown:
		writeMarkdownTable(buf, t)
		return nil
	case FormatPlain:
		writePlainTable(buf, t)
		return nil
	}
	return writeBoxTable(buf, t, r)
}

// writeBoxTable renders t with tablewriter's unicode box, cells coloured when r.color.
func writeBoxTable(buf *bytes.Buffer, t *table, r *renderer) error {
	widths := columnWidths(t)
	if r.width > 0 {
		fitFlexColumn(t, widths, r.width)
	}
	aligns := make([]tw.Align, len(t.cols))
	header := make([]any, len(t.cols))
	for i, c := range t.cols {
		aligns[i] = tw.AlignLeft
		if c.right {
			aligns[i] = tw.AlignRight
		}
		header[i] = c.title
	}
	tbl := tablewriter.NewTable(buf,
		tablewriter.WithRenderer(twrenderer.NewBlueprint()),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft, PerColumn: aligns}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft, PerColumn: aligns}),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
	)
	tbl.Header(header...)
	for _, row := range t.rows {
		cells := make([]string, len(t.cols))
		for i := range cells {
			if i < len(row) {
				cells[i] = paint(r.color, row[i].style, row[i].text)
			}
		}
		if err := tbl.Append(cells); err != nil {
			return fmt.Errorf("render table row: %w", err)
		}
	}
	if err := tbl.Render(); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	return nil
}

// columnWidths returns the display width of each column (title and cells).
func columnWidths(t *table) []int {
	widths := make([]int, len(t.cols))
	for i, c := range t.cols {
		widths[i] = displayWidth(c.title)
	}
	for _, row := range t.rows {
		for i := 0; i < len(row) && i < len(widths); i++ {
			if w := displayWidth(row[i].text); w > widths[i] {
				widths[i] = w
			}
		}
	}
	return widths
}

// minFlexWidth is the narrowest a shortened column gets: below it the text is useless, and
// the terminal may as well wrap.
const minFlexWidth = 16

// fitFlexColumn shortens the cells of the flex column so a boxed table fits in width
// columns. A box adds "│ " before each column, " " after it and a final "│": 3 per column
// plus 1.
func fitFlexColumn(t *table, widths []int, width int) {
	total := 1
	flex := -1
	for i, w := range widths {
		total += w + 3
		if t.cols[i].flex {
			flex = i
		}
	}
	if flex < 0 || total <= width {
		return
	}
	room := widths[flex] - (total - width)
	if room < minFlexWidth {
		room = minFlexWidth
	}
	if room >= widths[flex] {
		return
	}
	for _, row := range t.rows {
		if flex < len(row) {
			row[flex].text = truncate(row[flex].text, room, "…")
		}
	}
}

// writePlainTable writes t as aligned columns separated by two spaces, header first, no
// colour, no box drawing, "-" for a blank cell and no padding after the last cell.
func writePlainTable(buf *bytes.Buffer, t *table) {
	rows := make([][]string, 0, len(t.rows)+1)
	head := make([]string, len(t.cols))
	for i, c := range t.cols {
		head[i] = c.title
	}
	rows = append(rows, head)
	for _, row := range t.rows {
		cells := make([]string, len(t.cols))
		for i := range cells {
			cells[i] = "-"
			if i < len(row) && row[i].text != "" {
				cells[i] = row[i].text
			}
		}
		rows = append(rows, cells)
	}
	widths := make([]int, len(t.cols))
	for _, row := range rows {
		for i, s := range row {
			if w := displayWidth(s); w > widths[i] {
				widths[i] = w
			}
		}
	}
	for _, row := range rows {
		for i, s := range row {
			if i == len(row)-1 {
				buf.WriteString(s)
				break
			}
			buf.WriteString(s)
			buf.WriteString(strings.Repeat(" ", widths[i]-displayWidth(s)))
			buf.WriteString(plainSeparator)
		}
		buf.WriteByte('\n')
	}
}

// writeMarkdownTable writes t as a GitHub-flavoured Markdown table; numbers are right
// aligned, emphasised cells are bold, blank cells stay blank.
func writeMarkdownTable(buf *bytes.Buffer, t *table) {
	buf.WriteString("|")
	for _, c := range t.cols {
		buf.WriteString(" " + markdownEscape(c.title) + " |")
	}
	buf.WriteString("\n|")
	for _, c := range t.cols {
		if c.right {
			buf.WriteString("---:|")
		} else {
			buf.WriteString("---|")
		}
	}
	buf.WriteByte('\n')
	for _, row := range t.rows {
		buf.WriteString("|")
		for i := range t.cols {
			text := ""
			if i < len(row) {
				text = markdownInline(row[i])
			}
			buf.WriteString(" " + text + " |")
		}
		buf.WriteByte('\n')
	}
}

// markdownInline renders a cell as escaped Markdown text, bold when it carries a severity
// or emphasis.
func markdownInline(c cell) string {
	s := markdownEscape(c.text)
	if s == "" {
		return ""
	}
	switch c.style {
	case styleBold, styleWarning, styleCritical:
		return "**" + s + "**"
	}
	return s
}

// displayWidth is the number of terminal columns s takes (ANSI codes take none, wide
// characters two).
func displayWidth(s string) int { return twwidth.Width(s) }

// truncate shortens s (text without ANSI codes) to at most width columns, ending it with
// suffix when something was cut.
func truncate(s string, width int, suffix string) string {
	if displayWidth(s) <= width {
		return s
	}
	budget := width - displayWidth(suffix)
	if budget < 0 {
		return ""
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		w := displayWidth(string(r))
		if used+w > budget {
			break
		}
		b.WriteRune(r)
		used += w
	}
	return b.String() + suffix
}

// useNarrowWidths makes width calculations independent of the locale (East Asian ambiguous
// characters, box drawing included, count as one column), so golden files are the same on
// every machine. Tests call it; the CLI keeps the library's detection of the terminal.
func useNarrowWidths() { twwidth.SetOptions(twwidth.Options{EastAsianWidth: false}) }
