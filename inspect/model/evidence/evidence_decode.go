package evidence

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// keyUnits is the decoder of saved documents: JSON carries no units, so a snapshot read
// back from a file gets them from the names its evidence keys have. It is the only place
// where a key's name decides a unit; the rules set units with the constructors.
var keyUnits = struct {
	exact    map[string]Unit
	suffixes []struct {
		suffix string
		unit   Unit
	}
}{
	exact: map[string]Unit{
		"bytes":   UnitBytes,
		"percent": UnitPercent,
		"fds":     UnitFDs,
		"pids":    UnitPIDs,
	},
	suffixes: []struct {
		suffix string
		unit   Unit
	}{
		{"_bytes", UnitBytes},
		{"_percent", UnitPercent},
		{"_ms", UnitMillis},
		{"_seconds", UnitSeconds},
		{"_limit", UnitUnlimited},
	},
}

// unitOfKey is the unit a saved value of key has.
func unitOfKey(key string) Unit {
	if u, ok := keyUnits.exact[key]; ok {
		return u
	}
	for _, s := range keyUnits.suffixes {
		if strings.HasSuffix(key, s.suffix) {
			return s.unit
		}
	}
	return UnitNone
}

// UnmarshalJSON reads saved evidence, restoring each value's unit from its key.
func (e *Evidence) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if raw == nil {
		*e = nil
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return fmt.Errorf("evidence: an object is expected, got %s", bytes.TrimSpace(b))
	}
	*e = decodeObject(m)
	return nil
}

// decodeDocument is the value of a JSON document with the units its keys name.
func decodeDocument(b []byte) Value {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return Null()
	}
	return decodeValue("", raw)
}

func decodeObject(m map[string]any) Evidence {
	e := make(Evidence, len(m))
	for k, v := range m {
		e[k] = decodeValue(k, v)
	}
	return e
}

// decodeValue is the value of key as the rules would have built it.
func decodeValue(key string, v any) Value {
	u := unitOfKey(key)
	switch x := v.(type) {
	case nil:
		if u == UnitUnlimited {
			return Unlimited()
		}
		return Null()
	case bool:
		return Flag(x)
	case string:
		return Text(x)
	case json.Number:
		if u == UnitUnlimited || u == UnitFDs || u == UnitPIDs {
			u = UnitNone
		}
		return decodeNumber(u, x)
	case []any:
		l := make([]Value, len(x))
		for i, item := range x {
			l[i] = decodeValue(key, item)
		}
		if u != UnitFDs && u != UnitPIDs {
			u = UnitList
		}
		return Value{unit: u, raw: l}
	case map[string]any:
		return Object(decodeObject(x))
	}
	return Null()
}

func decodeNumber(u Unit, n json.Number) Value {
	s := n.String()
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return Value{unit: u, raw: i}
	}
	if i, err := strconv.ParseUint(s, 10, 64); err == nil {
		return Value{unit: u, raw: i}
	}
	f, _ := strconv.ParseFloat(s, 64)
	return Value{unit: u, raw: f}
}
