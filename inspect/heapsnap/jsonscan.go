package heapsnap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner is a minimal streaming JSON reader for the shapes a heap snapshot has: one
// top-level object whose big values are arrays of unsigned integers and of strings. It reads
// through a fixed buffer, so memory does not grow with the file; encoding/json's Decoder
// would allocate an interface value per number (hundreds of millions of them).
type scanner struct {
	r        io.Reader
	buf      []byte
	pos, end int
	off      int64 // file offset of buf[0]
	err      error // the read error that ended the input (io.EOF at the end)
}

// errTruncated says the input ended inside the document.
var errTruncated = errors.New("the file ends early")

func newScanner(r io.Reader) *scanner {
	return &scanner{r: r, buf: make([]byte, 1<<20)}
}

// offset is the position in the input of the next unread byte.
func (s *scanner) offset() int64 { return s.off + int64(s.pos) }

// fill makes sure at least one unread byte is buffered; false at the end of the input
// (s.err says why).
func (s *scanner) fill() bool {
	if s.pos < s.end {
		return true
	}
	if s.err != nil {
		return false
	}
	s.off += int64(s.end)
	s.pos, s.end = 0, 0
	for {
		n, err := s.r.Read(s.buf)
		s.end = n
		if err != nil {
			s.err = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// ensure makes sure n unread bytes are buffered (n is small); false when the input ends first.
func (s *scanner) ensure(n int) bool {
	for s.end-s.pos < n {
		if s.err != nil {
			return false
		}
		copy(s.buf, s.buf[s.pos:s.end])
		s.off += int64(s.pos)
		s.end -= s.pos
		s.pos = 0
		m, err := s.r.Read(s.buf[s.end:])
		s.end += m
		if err != nil {
			s.err = err
		}
	}
	return true
}

// fail returns the error for an input that ended (or broke) here.
func (s *scanner) fail(what string) error {
	if s.err != nil && s.err != io.EOF {
		return fmt.Errorf("reading %s at byte %d: %w", what, s.offset(), s.err)
	}
	return fmt.Errorf("%w: inside %s at byte %d", errTruncated, what, s.offset())
}

// peek returns the next byte that is not JSON white space, without consuming it.
func (s *scanner) peek(what string) (byte, error) {
	for {
		if s.pos >= s.end && !s.fill() {
			return 0, s.fail(what)
		}
		c := s.buf[s.pos]
		if c == ' ' || c == '\n' || c == '\r' || c == '\t' {
			s.pos++
			continue
		}
		return c, nil
	}
}

// expect consumes the next non-space byte, which must be c.
func (s *scanner) expect(c byte, what string) error {
	got, err := s.peek(what)
	if err != nil {
		return err
	}
	if got != c {
		return fmt.Errorf("expected %q in %s at byte %d, found %q", c, what, s.offset(), got)
	}
	s.pos++
	return nil
}

// uintArray reads a JSON array of non-negative integers, calling fn for each.
func (s *scanner) uintArray(what string, fn func(v uint64) error) error {
	if err := s.expect('[', what); err != nil {
		return err
	}
	c, err := s.peek(what)
	if err != nil {
		return err
	}
	if c == ']' {
		s.pos++
		return nil
	}
	for {
		if _, err := s.peek(what); err != nil {
			return err
		}
		var v uint64
		digits := 0
		for {
			if s.pos >= s.end && !s.fill() {
				return s.fail(what)
			}
			// The hot loop: digits straight from the buffer.
			b := s.buf[s.pos:s.end]
			i := 0
			for i < len(b) && b[i] >= '0' && b[i] <= '9' {
				if v > (1<<63)/10 {
					return fmt.Errorf("number too large in %s at byte %d", what, s.offset()+int64(i))
				}
				v = v*10 + uint64(b[i]-'0')
				i++
			}
			digits += i
			s.pos += i
			if i < len(b) {
				break
			}
		}
		if digits == 0 {
			c, _ := s.peek(what)
			return fmt.Errorf("expected a non-negative integer in %s at byte %d, found %q", what, s.offset(), c)
		}
		if err := fn(v); err != nil {
			return err
		}
		c, err := s.peek(what)
		if err != nil {
			return err
		}
		s.pos++
		switch c {
		case ',':
		case ']':
			return nil
		default:
			return fmt.Errorf("expected ',' or ']' in %s at byte %d, found %q", what, s.offset()-1, c)
		}
	}
}

// stringArray reads a JSON array of strings. For each, keep(i) says whether to decode it
// (at most max bytes kept; the rest is skipped) or only skip it.
func (s *scanner) stringArray(what string, keep func(i int) bool, max int, fn func(i int, v string)) (int, error) {
	if err := s.expect('[', what); err != nil {
		return 0, err
	}
	c, err := s.peek(what)
	if err != nil {
		return 0, err
	}
	if c == ']' {
		s.pos++
		return 0, nil
	}
	var tmp []byte
	for i := 0; ; i++ {
		if err := s.expect('"', what); err != nil {
			return i, err
		}
		if keep(i) {
			tmp, err = s.stringBody(tmp[:0], max, what)
			if err != nil {
				return i, err
			}
			fn(i, string(tmp))
		} else if err := s.skipStringBody(what); err != nil {
			return i, err
		}
		c, err := s.peek(what)
		if err != nil {
			return i, err
		}
		s.pos++
		switch c {
		case ',':
		case ']':
			return i + 1, nil
		default:
			return i, fmt.Errorf("expected ',' or ']' in %s at byte %d, found %q", what, s.offset()-1, c)
		}
	}
}

// skipStringBody consumes a string after its opening quote.
func (s *scanner) skipStringBody(what string) error {
	escaped := false
	for {
		if s.pos >= s.end && !s.fill() {
			return s.fail(what)
		}
		b := s.buf[s.pos:s.end]
		if escaped {
			escaped = false
			s.pos++
			continue
		}
		i := bytes.IndexAny(b, "\"\\")
		if i < 0 {
			s.pos = s.end
			continue
		}
		s.pos += i + 1
		if b[i] == '"' {
			return nil
		}
		escaped = true
	}
}

// byte1 returns the next raw byte.
func (s *scanner) byte1(what string) (byte, error) {
	if s.pos >= s.end && !s.fill() {
		return 0, s.fail(what)
	}
	c := s.buf[s.pos]
	s.pos++
	return c, nil
}

// stringBody decodes a string after its opening quote into dst, keeping at most max bytes.
func (s *scanner) stringBody(dst []byte, max int, what string) ([]byte, error) {
	add := func(p ...byte) {
		if len(dst)+len(p) <= max {
			dst = append(dst, p...)
		}
	}
	for {
		c, err := s.byte1(what)
		if err != nil {
			return dst, err
		}
		switch {
		case c == '"':
			return dst, nil
		case c == '\\':
			e, err := s.byte1(what)
			if err != nil {
				return dst, err
			}
			switch e {
			case '"', '\\', '/':
				add(e)
			case 'b':
				add('\b')
			case 'f':
				add('\f')
			case 'n':
				add('\n')
			case 'r':
				add('\r')
			case 't':
				add('\t')
			case 'u':
				r, err := s.hex4(what)
				if err != nil {
					return dst, err
				}
				if utf16.IsSurrogate(r) {
					// A pair is \uD8xx\uDCxx; a lone half becomes U+FFFD.
					if s.ensure(6) && s.buf[s.pos] == '\\' && s.buf[s.pos+1] == 'u' {
						s.pos += 2
						r2, err := s.hex4(what)
						if err != nil {
							return dst, err
						}
						r = utf16.DecodeRune(r, r2)
					} else {
						r = utf8.RuneError
					}
				}
				var enc [4]byte
				n := utf8.EncodeRune(enc[:], r)
				add(enc[:n]...)
			default:
				return dst, fmt.Errorf("bad escape \\%c in %s at byte %d", e, what, s.offset()-1)
			}
		default:
			add(c)
		}
	}
}

func (s *scanner) hex4(what string) (rune, error) {
	var r rune
	for k := 0; k < 4; k++ {
		c, err := s.byte1(what)
		if err != nil {
			return 0, err
		}
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, fmt.Errorf("bad \\u escape in %s at byte %d", what, s.offset()-1)
		}
		r = r<<4 | rune(d)
	}
	return r, nil
}

// key reads an object key (at most max bytes kept) and the colon after it.
func (s *scanner) key(max int, what string) (string, error) {
	if err := s.expect('"', what); err != nil {
		return "", err
	}
	k, err := s.stringBody(nil, max, what)
	if err != nil {
		return "", err
	}
	if err := s.expect(':', what); err != nil {
		return "", err
	}
	return string(k), nil
}

// skipValue consumes one JSON value of any shape (copying it into keep when keep is not
// nil, up to limit bytes; more is an error). Nesting is tracked with a counter, not
// recursion, so deep input cannot exhaust the stack.
func (s *scanner) skipValue(what string, keep *[]byte, limit int) error {
	if _, err := s.peek(what); err != nil {
		return err
	}
	depth := 0
	inString, escaped := false, false
	for {
		c, err := s.byte1(what)
		if err != nil {
			return err
		}
		if keep != nil {
			if len(*keep) >= limit {
				return fmt.Errorf("%s is larger than %d bytes", what, limit)
			}
			*keep = append(*keep, c)
		}
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if depth == 0 {
					return nil
				}
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth < 0 {
				return fmt.Errorf("unexpected %q in %s at byte %d", c, what, s.offset()-1)
			}
			if depth == 0 {
				return nil
			}
		case depth == 0 && (c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t'):
			// The end of a bare literal (number, true, false, null).
			s.pos--
			if keep != nil {
				*keep = (*keep)[:len(*keep)-1]
			}
			return nil
		}
		if depth == 0 && !inString {
			// A literal continues until a delimiter; peek at the next byte.
			if s.pos >= s.end && !s.fill() {
				return nil
			}
			if n := s.buf[s.pos]; n == ',' || n == '}' || n == ']' || n == ' ' || n == '\n' || n == '\r' || n == '\t' {
				return nil
			}
		}
	}
}
