// Package escape is the one escaper of names read from the kernel (fd link targets, deleted
// file paths, comm, command lines): Name makes a name valid UTF-8 for the model and its
// JSON without losing a byte, and Display makes it printable on one line of a terminal on
// top of Name. Both write an invalid byte as \xNN by the same rule. It depends on nothing
// of ours, so the renderers use it without pulling in the collector.
package escape

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// writeHexByte writes c as \xNN, the form of an invalid byte in both escapes.
func writeHexByte(b *strings.Builder, c byte) {
	b.WriteString(`\x`)
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&0xf])
}

// Name makes s valid UTF-8 for JSON without losing a byte. A valid name is kept as it is,
// newlines and backslashes included (JSON escapes those itself, and Display makes them
// printable); in a name that is not valid UTF-8 each invalid byte becomes \xNN and each
// backslash \\, so an escape cannot be confused with a name that has a backslash.
func Name(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeHexByte(&b, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Display returns s printable on one line of a terminal: it applies Name (so bytes that are
// not valid UTF-8 become \xNN, by the model's rule), then control characters become \n,
// \r, \t or \xNN, and other characters that are invisible or change the layout (bidi
// overrides, zero-width and non-ASCII spaces, line separators) become \uNNNN. A file name
// with a newline or an escape sequence in it cannot break a row or recolour the terminal.
//
// Backslashes of a valid name are left as they are: a name from the model already carries
// the \xNN escapes Name made, and doubling them would make every such name unreadable.
// Display is idempotent.
func Display(s string) string {
	if isPlainASCII(s) {
		return s
	}
	s = Name(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			writeHexByte(&b, byte(r))
		case r == ' ' || unicode.IsPrint(r):
			b.WriteString(s[i : i+utf8.RuneLen(r)])
		case r > 0xffff:
			b.WriteString(`\U`)
			writeHex(&b, uint32(r), 8)
		default:
			b.WriteString(`\u`)
			writeHex(&b, uint32(r), 4)
		}
	}
	return b.String()
}

// writeHex writes the low digits hex digits of v, zero-padded.
func writeHex(b *strings.Builder, v uint32, digits int) {
	for shift := (digits - 1) * 4; shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[(v>>shift)&0xf])
	}
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
