// Command flamegraph renders a flame graph (SVG) from a pprof profile (.pb.gz) or from
// collapsed stacks (.folded), with no graphviz: `go run ./scripts/flamegraph -o flame.svg
// profile.pb.gz`. Widths are the last sample value (CPU time, or bytes); the root is at the
// bottom, callees above their callers; each box's <title> gives its value and share.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"hash/fnv"
	"html"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/v8prof"
)

type node struct {
	name     string
	value    int64
	children map[string]*node
}

func (n *node) child(name string) *node {
	if n.children == nil {
		n.children = map[string]*node{}
	}
	c := n.children[name]
	if c == nil {
		c = &node{name: name}
		n.children[name] = c
	}
	return c
}

const (
	width     = 1200.0
	rowHeight = 17.0
	fontSize  = 11.0
	charWidth = 6.2 // about the width of one character of the 11 px font
)

func main() {
	out := flag.String("o", "flame.svg", "output SVG")
	title := flag.String("title", "", "title (default: the input's name)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: flamegraph [-o flame.svg] [-title T] PROFILE.pb.gz|STACKS.folded")
		os.Exit(2)
	}
	in := flag.Arg(0)
	data, err := os.ReadFile(in)
	if err != nil {
		fail(err)
	}
	folded := data
	if !strings.HasSuffix(in, ".folded") {
		var buf bytes.Buffer
		if err := v8prof.FoldedFromPprof(bytes.NewReader(data), &buf, -1); err != nil {
			fail(fmt.Errorf("%s: %w", in, err))
		}
		folded = buf.Bytes()
	}
	root := &node{name: "all"}
	sc := bufio.NewScanner(bytes.NewReader(folded))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseInt(line[i+1:], 10, 64)
		if err != nil || v <= 0 {
			continue
		}
		root.value += v
		n := root
		for _, f := range strings.Split(line[:i], ";") {
			n = n.child(f)
			n.value += v
		}
	}
	if root.value == 0 {
		fail(fmt.Errorf("%s: no samples", in))
	}
	if *title == "" {
		*title = "Flame graph of " + in
	}
	depth := maxDepth(root)
	height := float64(depth+1)*rowHeight + 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="Verdana,sans-serif" font-size="%.0f">`+"\n", width, height, fontSize)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#f8f8f8"/><text x="%.0f" y="20" text-anchor="middle" font-size="15">%s</text>`+"\n", width/2, html.EscapeString(*title))
	draw(&b, root, 10, width-20, height-rowHeight-5, root.value)
	b.WriteString("</svg>\n")
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		fail(err)
	}
}

func maxDepth(n *node) int {
	d := 0
	for _, c := range n.children {
		d = max(d, maxDepth(c)+1)
	}
	return d
}

// draw lays n out at x with width w on row y (the root at the bottom), then its children
// above it, sorted by name as flamegraph.pl does, so the graph is stable.
func draw(b io.StringWriter, n *node, x, w, y float64, total int64) {
	h := fnv.New32a()
	h.Write([]byte(n.name))
	v := h.Sum32()
	fill := fmt.Sprintf("rgb(%d,%d,%d)", 205+v%50, 80+(v>>8)%130, 30+(v>>16)%50)
	label := n.name
	if max := int((w - 6) / charWidth); len(label) > max {
		if max < 3 {
			label = ""
		} else {
			label = label[:max-2] + ".."
		}
	}
	b.WriteString(fmt.Sprintf(`<g><title>%s: %s (%.2f%%)</title><rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" fill="%s" rx="2"/>`,
		html.EscapeString(n.name), strconv.FormatInt(n.value, 10), 100*float64(n.value)/float64(total), x, y, max(w-0.5, 0.1), rowHeight-1, fill))
	if label != "" {
		b.WriteString(fmt.Sprintf(`<text x="%.1f" y="%.1f">%s</text>`, x+3, y+rowHeight-5, html.EscapeString(label)))
	}
	b.WriteString("</g>\n")
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	sort.Strings(names)
	cx := x
	for _, name := range names {
		c := n.children[name]
		cw := w * float64(c.value) / float64(n.value)
		if cw >= 0.3 {
			draw(b, c, cx, cw, y-rowHeight, total)
		}
		cx += cw
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "flamegraph:", err)
	os.Exit(1)
}
