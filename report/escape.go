package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// safe returns s printable on one line of a terminal: bytes that are not valid UTF-8 become
// \xNN, control characters become \n, \r, \t or \xNN, and other characters that are
// invisible or change the layout (bidi overrides, zero-width and non-ASCII spaces, line
// separators) become \uNNNN. A file name with a newline or an escape sequence in it cannot
// break a row or recolour the terminal.
//
// safe is display only, on top of the model's one escaper (probes.EscapeTarget, which makes
// names valid UTF-8 for JSON): backslashes are left as they are, since the model already
// carries the \xNN escapes EscapeTarget made and doubling them would make every such name
// unreadable.
func safe(s string) string {
	if isPlainASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == ' ' || unicode.IsPrint(r):
			b.WriteString(s[i : i+size])
		case r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

// isPlainASCII reports whether s is printable ASCII only (the common case, left untouched).
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// quoteIfNeeded returns safe(s), in double quotes when it is empty or has spaces, quotes or
// parentheses, so a comm like `x) Z 1 (y` reads as one name and not as more fields.
func quoteIfNeeded(s string) string {
	s = safe(s)
	if s == "" || strings.ContainsAny(s, " \"'()") {
		return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
	}
	return s
}

// joinArgs renders a command line the way a shell would read it back: each argument made
// safe, and quoted in single quotes when it is empty or holds characters a shell treats
// specially.
func joinArgs(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		a = safe(a)
		if a == "" || strings.ContainsAny(a, " '\"$`\\!&|;<>(){}*?[]#~") {
			b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
		} else {
			b.WriteString(a)
		}
	}
	return b.String()
}

// markdownEscape makes safe(s) literal text in GitHub-flavoured Markdown, in a paragraph,
// a list item or a table cell: every character that could start emphasis, a link, HTML, a
// table column or math is backslash-escaped.
func markdownEscape(s string) string {
	s = safe(s)
	const special = "\\`*_[]<>|~&$#"
	if !strings.ContainsAny(s, special) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(special, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
