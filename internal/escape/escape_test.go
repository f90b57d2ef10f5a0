package escape

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestName(t *testing.T) {
	for in, want := range map[string]string{
		"/a b": "/a b", "/a\nb": "/a\nb", `/x\y`: `/x\y`, "/é": "/é",
		"/bad\xff": `/bad\xff`, "/bad\xff\\x": `/bad\xff\\x`, "/é\xc3": `/é\xc3`,
		"": "", "\x80\x81": `\x80\x81`,
	} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDisplay(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/var/log/app.log", "/var/log/app.log"},
		{"a\nb", `a\nb`},
		{"a\r\tb", `a\r\tb`},
		{"\x1b[31mred", `\x1b[31mred`},
		{"\x00\x7f", `\x00\x7f`},
		{"bad\xff\xfe", `bad\xff\xfe`},
		{"ünïcødé 日本", "ünïcødé 日本"},
		{"\u202egnp.exe", `\u202egnp.exe`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"nb\u00a0sp", `nb\u00a0sp`},
		{"line\u2028sep", `line\u2028sep`},
		{"c1\u0085", `c1\u0085`},
		{"\U000e0001tag", `\U000e0001tag`},
		{`already\xff`, `already\xff`},
		// An invalid name is escaped by Name's rule first: its backslash is doubled, so
		// the display tells the byte 0xff from the four characters \xff.
		{"bad\xff\\xff", `bad\xff\\xff`},
		{"bad\xff\n", `bad\xff\n`},
	} {
		if got := Display(c.in); got != c.want {
			t.Errorf("Display(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzEscape: whatever the bytes, Name's output is valid UTF-8 and leaves a valid name as
// it is and loses no byte of an invalid one; Display's is valid UTF-8 with no control or
// invisible layout character, is idempotent, and agrees with Name on a name Name made.
func FuzzEscape(f *testing.F) {
	for _, seed := range []string{"", "plain", "a\nb", "\x1b[31m", "\xff\xfe", "\u202e", "x) Z 1 (y", "日本", `\x41`, "bad\xff\\x", "socket:[1]"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name := Name(s)
		if !utf8.ValidString(name) {
			t.Fatalf("Name(%q) = %q is not valid UTF-8", s, name)
		}
		if utf8.ValidString(s) && name != s {
			t.Fatalf("Name(%q) = %q changed a valid name", s, name)
		}
		if !utf8.ValidString(s) && unescapeName(name) != s {
			t.Fatalf("Name(%q) = %q loses bytes", s, name)
		}
		out := Display(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Display(%q) = %q is not valid UTF-8", s, out)
		}
		for _, r := range out {
			if r != ' ' && !unicode.IsPrint(r) {
				t.Fatalf("Display(%q) = %q keeps %U", s, out, r)
			}
		}
		if again := Display(out); again != out {
			t.Fatalf("Display is not idempotent: %q -> %q -> %q", s, out, again)
		}
		if Display(name) != out {
			t.Fatalf("Display(%q) = %q but Display(Name) = %q", s, out, Display(name))
		}
	})
}

// unescapeName undoes Name on an invalid name (\xNN and \\).
func unescapeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == '\\' {
			b.WriteByte('\\')
			i++
			continue
		}
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			var v byte
			for _, c := range []byte(s[i+2 : i+4]) {
				v = v<<4 | byte(strings.IndexByte(hexDigits, c))
			}
			b.WriteByte(v)
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
