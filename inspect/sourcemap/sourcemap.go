// Package sourcemap maps a position in generated JavaScript back to the original file, line
// and column through the script's source map (inline or a file beside it): the frames of
// `stack`, `profile` and a blocked loop's stack name TypeScript or bundled code where it was
// written. It reads files only and depends on nothing of ours.
package sourcemap

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"
)

// A source map v3 decoder (https://tc39.es/ecma426/): enough to map one generated
// position back to its original file, line and column. It is written here rather than
// taken from a library: the format's core is a page of code (base64 VLQ), the Go
// libraries for it are either unmaintained or pull in far more than a position lookup,
// and a decoder of untrusted input (the target's files) is one we want to fuzz ourselves.

// SourceMap is a decoded source map.
type SourceMap struct {
	// Sources are the original files, resolved against sourceRoot.
	Sources []string
	// Names are the original identifiers.
	Names []string
	// lines holds, per generated line (0-based), its segments sorted by column.
	lines [][]mapSegment
}

// mapSegment is one mapping: a generated column to an original position. src is -1 for
// a segment that maps to nothing; name is -1 without a name.
type mapSegment struct {
	genCol, src, line, col, name int
}

// maxMapBytes bounds a source map read from the target (a big bundle's map is a few MB).
const MaxBytes = 64 << 20

// rawSourceMap is the JSON of a source map.
type rawSourceMap struct {
	Version    int               `json:"version"`
	SourceRoot string            `json:"sourceRoot"`
	Sources    []*string         `json:"sources"`
	Names      []string          `json:"names"`
	Mappings   *string           `json:"mappings"`
	Sections   []json.RawMessage `json:"sections"`
}

// Parse decodes a version 3 source map. Index maps (sections) are not supported.
func Parse(data []byte) (*SourceMap, error) {
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("source map of %d bytes is larger than %d", len(data), MaxBytes)
	}
	// A map may start with )]}' to keep it from being run as a script.
	if rest, ok := strings.CutPrefix(string(data), ")]}'"); ok {
		data = []byte(rest)
	}
	var raw rawSourceMap
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("source map is not JSON: %w", err)
	}
	if raw.Version != 3 {
		return nil, fmt.Errorf("source map version %d, not 3", raw.Version)
	}
	if len(raw.Sections) > 0 {
		return nil, fmt.Errorf("source map is an index map (sections), which is not supported")
	}
	if raw.Mappings == nil {
		return nil, fmt.Errorf("source map has no mappings")
	}
	m := &SourceMap{Names: raw.Names}
	for _, s := range raw.Sources {
		src := ""
		if s != nil {
			src = *s
		}
		if raw.SourceRoot != "" && !strings.Contains(src, "://") && !path.IsAbs(src) {
			src = strings.TrimSuffix(raw.SourceRoot, "/") + "/" + src
		}
		m.Sources = append(m.Sources, src)
	}
	if err := m.decode(*raw.Mappings); err != nil {
		return nil, err
	}
	return m, nil
}

// decode reads the mappings string: lines separated by ';', segments by ',', each segment
// 1, 4 or 5 base64 VLQ fields, all but the generated column relative to the previous
// segment (the generated column to the previous segment of the same line).
func (m *SourceMap) decode(mappings string) error {
	var src, line, col, name int
	for lineNo, text := range strings.Split(mappings, ";") {
		var segs []mapSegment
		genCol := 0
		for _, field := range strings.Split(text, ",") {
			if field == "" {
				continue
			}
			vals, err := decodeVLQ(field)
			if err != nil {
				return fmt.Errorf("mappings line %d: %w", lineNo+1, err)
			}
			seg := mapSegment{src: -1, name: -1}
			switch len(vals) {
			case 1, 4, 5:
			default:
				return fmt.Errorf("mappings line %d: a segment of %d fields (1, 4 or 5 expected)", lineNo+1, len(vals))
			}
			genCol += vals[0]
			seg.genCol = genCol
			if len(vals) >= 4 {
				src += vals[1]
				line += vals[2]
				col += vals[3]
				if src < 0 || src >= len(m.Sources) || line < 0 || col < 0 || genCol < 0 {
					return fmt.Errorf("mappings line %d: a segment out of range (source %d of %d, line %d, column %d)", lineNo+1, src, len(m.Sources), line, col)
				}
				seg.src, seg.line, seg.col = src, line, col
			}
			if len(vals) == 5 {
				name += vals[4]
				if name >= 0 && name < len(m.Names) {
					seg.name = name
				}
			}
			segs = append(segs, seg)
		}
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].genCol < segs[j].genCol })
		m.lines = append(m.lines, segs)
	}
	return nil
}

// vlqDigits maps a base64 character to its value (-1: not base64).
var vlqDigits = func() [256]int {
	var t [256]int
	for i := range t {
		t[i] = -1
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = i
	}
	return t
}()

// decodeVLQ decodes a run of base64 VLQ numbers: 5 bits a digit, bit 6 continues, the
// lowest bit of the first digit is the sign.
func decodeVLQ(s string) ([]int, error) {
	var out []int
	value, shift := 0, 0
	for i := 0; i < len(s); i++ {
		d := vlqDigits[s[i]]
		if d < 0 {
			return nil, fmt.Errorf("%q is not a base64 VLQ digit", s[i])
		}
		if shift > 30 {
			return nil, fmt.Errorf("a VLQ number in %q is longer than 32 bits", s)
		}
		value |= (d & 31) << shift
		if d&32 != 0 {
			shift += 5
			continue
		}
		n := value >> 1
		if value&1 != 0 {
			n = -n
		}
		out = append(out, n)
		value, shift = 0, 0
	}
	if shift != 0 {
		return nil, fmt.Errorf("%q ends inside a VLQ number", s)
	}
	return out, nil
}

// Lookup maps a 0-based generated line and column to the original source, 0-based line
// and column, and name ("" when none). ok is false when the position maps to nothing.
func (m *SourceMap) Lookup(line, col int) (source string, origLine, origCol int, name string, ok bool) {
	if line < 0 || line >= len(m.lines) {
		return "", 0, 0, "", false
	}
	segs := m.lines[line]
	i := sort.Search(len(segs), func(i int) bool { return segs[i].genCol > col }) - 1
	if i < 0 || segs[i].src < 0 {
		return "", 0, 0, "", false
	}
	s := segs[i]
	if s.name >= 0 {
		name = m.Names[s.name]
	}
	return m.Sources[s.src], s.line, s.col, name, true
}

// sourceMapLocation resolves a script's sourceMappingURL: an inline data: URL gives the
// map itself (inline); otherwise the path of the map file, relative to the script's own
// path. scriptURL is the script's file:// URL or path. It fails for maps on the network.
func Location(scriptURL, mapURL string) (inline []byte, file string, err error) {
	if rest, ok := strings.CutPrefix(mapURL, "data:"); ok {
		meta, payload, found := strings.Cut(rest, ",")
		if !found {
			return nil, "", fmt.Errorf("inline source map: a data: URL without a comma")
		}
		if strings.HasSuffix(meta, ";base64") {
			b, err := base64.StdEncoding.DecodeString(payload)
			if err != nil {
				b, err = base64.RawStdEncoding.DecodeString(payload)
			}
			if err != nil {
				return nil, "", fmt.Errorf("inline source map: bad base64: %w", err)
			}
			return b, "", nil
		}
		s, err := url.PathUnescape(payload)
		if err != nil {
			return nil, "", fmt.Errorf("inline source map: %w", err)
		}
		return []byte(s), "", nil
	}
	if strings.HasPrefix(mapURL, "file://") {
		u, err := url.Parse(mapURL)
		if err != nil {
			return nil, "", fmt.Errorf("source map URL %q: %w", mapURL, err)
		}
		return nil, u.Path, nil
	}
	if strings.Contains(mapURL, "://") {
		return nil, "", fmt.Errorf("source map %q is not a file; nodeinspect reads maps from the process's filesystem only", mapURL)
	}
	script := ScriptPath(scriptURL)
	if script == "" {
		return nil, "", fmt.Errorf("script %q is not a file, so its map %q cannot be found beside it", scriptURL, mapURL)
	}
	if path.IsAbs(mapURL) {
		return nil, mapURL, nil
	}
	u, err := url.PathUnescape(mapURL)
	if err != nil {
		u = mapURL
	}
	return nil, path.Join(path.Dir(script), u), nil
}

// ScriptPath is the filesystem path of a script URL ("" when it is not a file).
func ScriptPath(scriptURL string) string {
	if strings.HasPrefix(scriptURL, "file://") {
		u, err := url.Parse(scriptURL)
		if err != nil {
			return ""
		}
		return u.Path
	}
	if path.IsAbs(scriptURL) {
		return scriptURL
	}
	return ""
}

// OriginalSource turns a map's source entry into what a frame shows: a path resolved
// against the map file's directory (webpack:// and other schemes kept as they are).
func OriginalSource(mapFile, scriptURL, source string) string {
	if strings.Contains(source, "://") || path.IsAbs(source) {
		return source
	}
	base := mapFile
	if base == "" {
		base = ScriptPath(scriptURL)
	}
	if base == "" {
		return source
	}
	return path.Join(path.Dir(base), source)
}
