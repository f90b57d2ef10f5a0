package v8prof

import (
	"bufio"
	"io"
	"sort"
	"strconv"
	"strings"
)

// WriteFolded writes the profile as collapsed stacks, one line per distinct stack:
// "outer;...;inner COUNT" with COUNT the number of samples, the input of flamegraph.pl,
// speedscope and inferno. A frame is "function (url:line)"; a ';' inside a name becomes
// ',' so it cannot split a frame.
func (p *CPUProfile) WriteFolded(w io.Writer) error {
	if p.index == nil {
		if err := p.link(); err != nil {
			return err
		}
	}
	counts := make([]int, len(p.Nodes))
	for _, id := range p.Samples {
		counts[p.index[id]]++
	}
	lines := make([]string, 0)
	for i, n := range counts {
		if n == 0 {
			continue
		}
		frames := p.stack(i)
		parts := make([]string, len(frames))
		for k, c := range frames {
			parts[k] = foldedFrame(c)
		}
		lines = append(lines, strings.Join(parts, ";")+" "+strconv.Itoa(n))
	}
	sort.Strings(lines)
	bw := bufio.NewWriter(w)
	for _, l := range lines {
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

func foldedFrame(c CallFrame) string {
	f := c.Frame()
	s := f.Function
	if f.URL != "" {
		s += " (" + f.URL + ":" + strconv.Itoa(f.Line) + ")"
	}
	return strings.NewReplacer(";", ",", "\n", " ").Replace(s)
}
