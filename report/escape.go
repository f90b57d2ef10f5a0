package report

import (
	"strings"

	"github.com/nodeinspect/nodeinspect/internal/escape"
)

// safe returns s printable on one line of a terminal (escape.Display: the model's escape
// of invalid bytes, then control and invisible characters made visible). Every renderer
// goes through it; markdownEscape and the quoting below build on it.
func safe(s string) string { return escape.Display(s) }

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
