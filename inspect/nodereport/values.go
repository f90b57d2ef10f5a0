package nodereport

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Small readers of raw JSON values: numbers as text, strings, flags, and their wording.

// present is whether a raw value is there and not null.
func present(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

func firstByte(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func isObject(raw json.RawMessage) bool { return firstByte(raw) == '{' }
func isArray(raw json.RawMessage) bool  { return firstByte(raw) == '[' }

// kind names the JSON type of a raw value, for messages.
func kind(raw json.RawMessage) string {
	switch c := firstByte(raw); {
	case c == 0:
		return "missing"
	case c == '{':
		return "an object"
	case c == '[':
		return "a list"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	default:
		return "a number"
	}
}

// article puts "a" or "an" before a JSON type name of encoding/json.
func article(value string) string {
	if value == "" {
		return "not an object"
	}
	if strings.ContainsRune("aeiou", rune(value[0])) {
		return "an " + value
	}
	return "a " + value
}

// text reads a JSON string.
func text(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	// Most strings have no escapes: take them as they are. (Parse has validated the
	// whole document by then; the check keeps text right on its own.)
	if in := raw[1 : len(raw)-1]; bytes.IndexByte(in, '\\') < 0 && bytes.IndexByte(in, '"') < 0 && raw[len(raw)-1] == '"' && utf8.Valid(in) && !hasControl(in) {
		return string(in), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// hasControl is whether b has a byte JSON strings cannot hold unescaped.
func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// stringList reads a list of strings, keeping the strings of a list that has other
// things too; bad is true when raw was not a list of strings only.
func stringList(raw json.RawMessage) (list []string, bad bool) {
	var items []json.RawMessage
	if !isArray(raw) || json.Unmarshal(raw, &items) != nil {
		return nil, true
	}
	list = make([]string, 0, len(items))
	for _, it := range items {
		s, ok := text(it)
		if !ok {
			bad = true
			continue
		}
		list = append(list, s)
	}
	return list, bad
}

// numberText is the text of a JSON number, or of the content of a JSON string (numbers
// of the oldest reports are strings), trimmed; "" for anything else.
func numberText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		s, _ := text(raw)
		return strings.TrimSpace(s)
	}
	if c := raw[0]; c == '-' || (c >= '0' && c <= '9') {
		return string(raw)
	}
	return ""
}

// number reads a non-negative integer from a JSON number or a numeric string, exactly
// (no float64 in between) when it is written as an integer. A number with a fraction or
// exponent is truncated ("1.5e3" is 1500). Negative, non-numeric, or beyond uint64: false.
func number(raw json.RawMessage) (uint64, bool) {
	s := numberText(raw)
	if s == "" {
		return 0, false
	}
	if v, err := strconv.ParseUint(s, 10, 64); err == nil {
		return v, true
	}
	f, err := strconv.ParseFloat(s, 64)
	// 2^64 is exactly representable as a float64; anything from it up does not fit.
	if err != nil || !(f >= 0 && f < 18446744073709551616.0) {
		return 0, false
	}
	return uint64(f), true
}

// negative is whether raw holds a negative number.
func negative(raw json.RawMessage) bool {
	s := numberText(raw)
	if !strings.HasPrefix(s, "-") {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// signed reads an integer that may be negative (a timer's firesInMsFromNow), from a JSON
// number or numeric string; fractions are truncated.
func signed(raw json.RawMessage) (int64, bool) {
	s := numberText(raw)
	if s == "" {
		return 0, false
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > -9223372036854775808.0 && f < 9223372036854775808.0) {
		return 0, false
	}
	return int64(f), true
}

// boolean reads a flag: true, 1, or "1" / "true" in the oldest reports.
func boolean(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	switch string(raw) {
	case "true", "1", `"1"`, `"true"`:
		return true
	}
	return false
}

// clip shortens raw JSON for a warning.
func clip(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "missing"
	}
	s := string(raw)
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "?")), " ")
	return s
}
