package probes

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// SmapsRollup is /proc/<pid>/smaps_rollup in bytes; nil when a key is absent.
type SmapsRollup struct {
	Rss, Pss, PssAnon, PssFile, PssShmem        *uint64
	SharedClean, SharedDirty                    *uint64
	PrivateClean, PrivateDirty, Anonymous, Swap *uint64
	SwapPss                                     *uint64
}

// ParseSmapsRollup parses smaps_rollup.
func ParseSmapsRollup(data []byte) (SmapsRollup, error) {
	var s SmapsRollup
	fields := map[string]**uint64{
		"Rss": &s.Rss, "Pss": &s.Pss, "Pss_Anon": &s.PssAnon, "Pss_File": &s.PssFile, "Pss_Shmem": &s.PssShmem,
		"Shared_Clean": &s.SharedClean, "Shared_Dirty": &s.SharedDirty, "Private_Clean": &s.PrivateClean,
		"Private_Dirty": &s.PrivateDirty, "Anonymous": &s.Anonymous, "Swap": &s.Swap, "SwapPss": &s.SwapPss,
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		dst, known := fields[key]
		if !known {
			continue
		}
		v, err := parseKB(strings.TrimSpace(val))
		if err != nil {
			return s, fmt.Errorf("smaps_rollup line %q: %w", quote(sc.Bytes()), ErrMalformed)
		}
		*dst = v
		n++
	}
	if n == 0 {
		return s, fmt.Errorf("smaps_rollup %q: no known fields: %w", quote(data), ErrMalformed)
	}
	return s, sc.Err()
}

// ReadSmapsRollup reads /proc/<pid>/smaps_rollup.
func (p FS) ReadSmapsRollup(pid int) (SmapsRollup, error) {
	data, err := ReadFile(p.PidPath(pid, "smaps_rollup"))
	if err != nil {
		return SmapsRollup{}, err
	}
	return ParseSmapsRollup(data)
}
