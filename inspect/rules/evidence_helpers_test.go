package rules

import "github.com/nodeinspect/nodeinspect/inspect/model/evidence"

// intOf is an integer evidence value, whatever integer type the rule used (-1 when none).
func intOf(v evidence.Value) int64 {
	if n, ok := v.Int(); ok {
		return n
	}
	return -1
}

// textOf is a text evidence value.
func textOf(v evidence.Value) string {
	s, _ := v.Str()
	return s
}

// objects is a list of evidence objects.
func objects(v evidence.Value) []evidence.Evidence {
	l, _ := v.List()
	out := make([]evidence.Evidence, 0, len(l))
	for _, item := range l {
		if o, ok := item.Object(); ok {
			out = append(out, o)
		}
	}
	return out
}

// texts is a list of text values.
func texts(v evidence.Value) []string {
	l, _ := v.List()
	out := make([]string, 0, len(l))
	for _, item := range l {
		s, _ := item.Str()
		out = append(out, s)
	}
	return out
}

// flag reports whether a flag value is true.
func flag(v evidence.Value) bool {
	b, _ := v.Bool()
	return b
}
