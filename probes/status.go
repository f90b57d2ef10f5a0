package probes

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Status is the part of /proc/<pid>/status nodeinspect uses. Memory fields are bytes
// (the file says kB), nil when the line is absent (kernel threads, zombies).
type Status struct {
	Name                                             string
	State                                            string
	Tgid                                             int
	PPid                                             int
	UIDs                                             [4]int
	GIDs                                             [4]int
	Threads                                          int
	VmRSS, VmHWM, RssAnon, RssFile, RssShmem, VmSwap *uint64
	SigCgt, SigIgn, SigBlk, SigPnd, ShdPnd           uint64
	NSpid                                            []int
}

// Catches reports whether signal sig has a handler (bit sig-1 of SigCgt).
func (s Status) Catches(sig int) bool { return sig > 0 && sig <= 64 && s.SigCgt&(1<<(sig-1)) != 0 }

// Ignores reports whether signal sig is ignored (bit sig-1 of SigIgn).
func (s Status) Ignores(sig int) bool { return sig > 0 && sig <= 64 && s.SigIgn&(1<<(sig-1)) != 0 }

// ParseStatus parses /proc/<pid>/status.
func ParseStatus(data []byte) (Status, error) {
	var s Status
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	seen := false
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		var err error
		switch key {
		case "Name":
			s.Name, seen = val, true
		case "State":
			s.State, _, _ = strings.Cut(val, " ")
		case "Tgid":
			s.Tgid, err = strconv.Atoi(val)
		case "PPid":
			s.PPid, err = strconv.Atoi(val)
		case "Threads":
			s.Threads, err = strconv.Atoi(val)
		case "Uid", "Gid":
			dst := &s.UIDs
			if key == "Gid" {
				dst = &s.GIDs
			}
			f := strings.Fields(val)
			if len(f) != 4 {
				err = fmt.Errorf("want 4 ids")
				break
			}
			for i := range f {
				if dst[i], err = strconv.Atoi(f[i]); err != nil {
					break
				}
			}
		case "VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem", "VmSwap":
			var v *uint64
			v, err = parseKB(val)
			switch key {
			case "VmRSS":
				s.VmRSS = v
			case "VmHWM":
				s.VmHWM = v
			case "RssAnon":
				s.RssAnon = v
			case "RssFile":
				s.RssFile = v
			case "RssShmem":
				s.RssShmem = v
			case "VmSwap":
				s.VmSwap = v
			}
		case "SigCgt", "SigIgn", "SigBlk", "SigPnd", "ShdPnd":
			var v uint64
			v, err = strconv.ParseUint(val, 16, 64)
			switch key {
			case "SigCgt":
				s.SigCgt = v
			case "SigIgn":
				s.SigIgn = v
			case "SigBlk":
				s.SigBlk = v
			case "SigPnd":
				s.SigPnd = v
			case "ShdPnd":
				s.ShdPnd = v
			}
		case "NSpid":
			for _, f := range strings.Fields(val) {
				n, e := strconv.Atoi(f)
				if e != nil {
					err = e
					break
				}
				s.NSpid = append(s.NSpid, n)
			}
		}
		if err != nil {
			return s, fmt.Errorf("status line %q: %w", quote([]byte(sc.Text())), ErrMalformed)
		}
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("status: %w", err)
	}
	if !seen {
		return s, fmt.Errorf("status %q: no Name line: %w", quote(data), ErrMalformed)
	}
	return s, nil
}

// parseKB reads "123 kB" into bytes.
func parseKB(val string) (*uint64, error) {
	num, unit, _ := strings.Cut(val, " ")
	n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(unit) != "kB" || n > (1<<54) {
		return nil, fmt.Errorf("unit %q", unit)
	}
	n *= 1024
	return &n, nil
}

// ReadStatus reads /proc/<pid>/status.
func (p FS) ReadStatus(pid int) (Status, error) {
	data, err := ReadFile(p.PidPath(pid, "status"))
	if err != nil {
		return Status{}, err
	}
	return ParseStatus(data)
}
