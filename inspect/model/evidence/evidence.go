package evidence

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strconv"
)

// Unit is what an evidence value measures; renderers format a value by its unit.
type Unit string

// The units of evidence values.
const (
	// UnitNone is a plain number (an id, a port, a ratio) or a value without a unit.
	UnitNone Unit = ""
	// UnitCount is a number of things (fds, sockets, samples).
	UnitCount Unit = "count"
	// UnitBytes is a size in bytes.
	UnitBytes Unit = "bytes"
	// UnitPercent is a percentage (0-100).
	UnitPercent Unit = "percent"
	// UnitMillis is a duration in milliseconds.
	UnitMillis Unit = "ms"
	// UnitSeconds is a duration in seconds.
	UnitSeconds Unit = "seconds"
	// UnitRate is a change per unit of time.
	UnitRate Unit = "rate"
	// UnitText is a string.
	UnitText Unit = "text"
	// UnitFlag is a boolean.
	UnitFlag Unit = "flag"
	// UnitUnlimited is a null limit: no limit applies.
	UnitUnlimited Unit = "unlimited"
	// UnitFDs is a list of file descriptor numbers.
	UnitFDs Unit = "fds"
	// UnitPIDs is a list of process ids.
	UnitPIDs Unit = "pids"
	// UnitList is a list of values, each with its own unit.
	UnitList Unit = "list"
	// UnitObject is a nested evidence object.
	UnitObject Unit = "object"
)

// Kind is the JSON shape of a value.
type Kind int

// The shapes of evidence values.
const (
	KindNull Kind = iota
	KindBool
	KindNumber
	KindText
	KindList
	KindObject
)

// Value is one evidence value: its raw number, text, list or object and its unit. It
// marshals to the raw value alone.
type Value struct {
	unit Unit
	// raw is nil, bool, int64, uint64, float64, string, []Value or Evidence.
	raw any
	// per is the time unit of a rate ("minute").
	per string
	// doc is the JSON of a Record, written as it is (its keys in the document's order).
	doc string
}

// Evidence holds the numbers, fds and pids behind a finding, by name.
type Evidence map[string]Value

type integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

func intValue[T integer](u Unit, n T) Value {
	if n < 0 || uint64(n) <= math.MaxInt64 {
		return Value{unit: u, raw: int64(n)}
	}
	return Value{unit: u, raw: uint64(n)}
}

// Count is a number of things.
func Count[T integer](n T) Value { return intValue(UnitCount, n) }

// Int is a plain integer without a unit (an fd number, a port, a pid).
func Int[T integer](n T) Value { return intValue(UnitNone, n) }

// Bytes is a size in bytes.
func Bytes[T integer](n T) Value { return intValue(UnitBytes, n) }

// Number is a plain number without a unit (a ratio, a load).
func Number(f float64) Value { return Value{unit: UnitNone, raw: f} }

// Percent is a percentage.
func Percent(f float64) Value { return Value{unit: UnitPercent, raw: f} }

// Millis is a duration in milliseconds.
func Millis[T integer | ~float64](ms T) Value { return numeric(UnitMillis, ms) }

// Seconds is a duration in seconds.
func Seconds(s float64) Value { return Value{unit: UnitSeconds, raw: s} }

// Rate is a change per unit of time (per is "second", "minute"...).
func Rate(f float64, per string) Value { return Value{unit: UnitRate, raw: f, per: per} }

func numeric[T integer | ~float64](u Unit, n T) Value {
	switch x := any(n).(type) {
	case float64:
		return Value{unit: u, raw: x}
	case float32:
		return Value{unit: u, raw: float64(x)}
	}
	if float64(n) < 0 {
		return Value{unit: u, raw: int64(n)}
	}
	if u64 := uint64(n); u64 > math.MaxInt64 {
		return Value{unit: u, raw: u64}
	}
	return Value{unit: u, raw: int64(n)}
}

// Text is a string.
func Text(s string) Value { return Value{unit: UnitText, raw: s} }

// Flag is a boolean.
func Flag(b bool) Value { return Value{unit: UnitFlag, raw: b} }

// Null is a value that is not known (JSON null).
func Null() Value { return Value{} }

// Unlimited is a null limit: no limit applies.
func Unlimited() Value { return Value{unit: UnitUnlimited} }

// FDs is a list of fd numbers (nil marshals to null).
func FDs(fds []int) Value { return intList(UnitFDs, fds) }

// PIDs is a list of process ids (nil marshals to null).
func PIDs(pids []int) Value { return intList(UnitPIDs, pids) }

// Counts is a list of counts (samples of a growing number).
func Counts[T integer](ns []T) Value { return intList(UnitList, ns) }

func intList[T integer](u Unit, ns []T) Value {
	if ns == nil {
		return Value{unit: u, raw: []Value(nil)}
	}
	l := make([]Value, len(ns))
	for i, n := range ns {
		l[i] = Int(n)
	}
	return Value{unit: u, raw: l}
}

// Texts is a list of strings (nil marshals to null).
func Texts(ss []string) Value {
	if ss == nil {
		return Value{unit: UnitList, raw: []Value(nil)}
	}
	l := make([]Value, len(ss))
	for i, s := range ss {
		l[i] = Text(s)
	}
	return Value{unit: UnitList, raw: l}
}

// List is a list of values.
func List(vs []Value) Value { return Value{unit: UnitList, raw: vs} }

// Object is a nested evidence object.
func Object(e Evidence) Value { return Value{unit: UnitObject, raw: e} }

// Objects is a list of nested evidence objects (peer groups, files).
func Objects(es []Evidence) Value {
	if es == nil {
		return Value{unit: UnitList, raw: []Value(nil)}
	}
	l := make([]Value, len(es))
	for i, e := range es {
		l[i] = Object(e)
	}
	return Value{unit: UnitList, raw: l}
}

// CountsBy is an object of counts by name (fds by type).
func CountsBy[T integer](m map[string]T) Value {
	if m == nil {
		return Value{unit: UnitObject, raw: Evidence(nil)}
	}
	e := make(Evidence, len(m))
	for k, n := range m {
		e[k] = Count(n)
	}
	return Object(e)
}

// Unit is the value's unit.
func (v Value) Unit() Unit { return v.unit }

// Per is the time unit of a rate.
func (v Value) Per() string { return v.per }

// Kind is the value's JSON shape.
func (v Value) Kind() Kind {
	switch x := v.raw.(type) {
	case bool:
		return KindBool
	case int64, uint64, float64:
		return KindNumber
	case string:
		return KindText
	case []Value:
		if x == nil {
			return KindNull
		}
		return KindList
	case Evidence:
		if x == nil {
			return KindNull
		}
		return KindObject
	}
	return KindNull
}

// IsNull reports whether the value is JSON null.
func (v Value) IsNull() bool { return v.Kind() == KindNull }

// Int returns an integer value, whatever integer type built it.
func (v Value) Int() (int64, bool) {
	switch x := v.raw.(type) {
	case int64:
		return x, true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	}
	return 0, false
}

// Uint returns a non-negative integer value.
func (v Value) Uint() (uint64, bool) {
	if x, ok := v.raw.(uint64); ok {
		return x, true
	}
	if i, ok := v.Int(); ok && i >= 0 {
		return uint64(i), true
	}
	return 0, false
}

// Float returns any number as a float64.
func (v Value) Float() (float64, bool) {
	switch x := v.raw.(type) {
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// Str returns a text value.
func (v Value) Str() (string, bool) {
	s, ok := v.raw.(string)
	return s, ok
}

// Bool returns a flag value.
func (v Value) Bool() (bool, bool) {
	b, ok := v.raw.(bool)
	return b, ok
}

// List returns the items of a list value.
func (v Value) List() ([]Value, bool) {
	l, ok := v.raw.([]Value)
	return l, ok && l != nil
}

// Object returns a nested evidence object.
func (v Value) Object() (Evidence, bool) {
	e, ok := v.raw.(Evidence)
	return e, ok && e != nil
}

// Ints returns the items of a list of integers (fds, pids).
func (v Value) Ints() []int {
	l, _ := v.List()
	out := make([]int, 0, len(l))
	for _, item := range l {
		if n, ok := item.Int(); ok {
			out = append(out, int(n))
		}
	}
	return out
}

// NumberText is a number as JSON writes it, "" for other values.
func (v Value) NumberText() string {
	switch x := v.raw.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// String is the raw value as text: the number, the string, or its JSON.
func (v Value) String() string {
	switch x := v.raw.(type) {
	case string:
		return x
	case int64, uint64, float64:
		return v.NumberText()
	case nil:
		return "<nil>"
	}
	b, _ := v.MarshalJSON()
	return string(b)
}

// MarshalJSON writes the raw value alone, as encoding/json writes it.
func (v Value) MarshalJSON() ([]byte, error) {
	if v.doc != "" {
		return []byte(v.doc), nil
	}
	return encode(v.raw)
}

// encode is v's JSON without HTML escapes (the document's encoder adds them or not).
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Keys returns the evidence's names, sorted.
func (e Evidence) Keys() []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Opt is f(*p), or null when p is nil (a number that could not be read).
func Opt[T any](p *T, f func(T) Value) Value {
	if p == nil {
		return Null()
	}
	return f(*p)
}

// Record is a value that is a model document of its own (the added fds of a diff, peer
// deltas): it marshals as v does, and renders as a saved document's value would.
func Record(v any) Value {
	b, err := encode(v)
	if err != nil {
		return Text(err.Error())
	}
	out := decodeDocument(b)
	out.doc = string(b)
	return out
}
