package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// bigTable repeats the fds of s (and a few hostile ones) past fastFDsMin.
func bigTable(s *model.Snapshot, extra ...model.FD) *model.Snapshot {
	c := *s
	t := &model.FDTable{ByType: map[string]int{}, List: []model.FD{}}
	if s.FDs != nil {
		*t = *s.FDs
		t.List = nil
	}
	base := []model.FD{}
	if s.FDs != nil {
		base = s.FDs.List
	}
	base = append(base, extra...)
	for len(t.List) < 2*fastFDsMin && len(base) > 0 {
		for _, fd := range base {
			fd.FD = len(t.List)
			t.List = append(t.List, fd)
		}
	}
	t.Open = len(t.List)
	c.FDs = t
	return &c
}

func hostileFDs() []model.FD {
	size := int64(-1)
	return []model.FD{
		{Type: "file", Target: "/tmp/a\"b\\c\nd\te\x01f\x7f<&>\u2028\u2029 é", Deleted: true, Size: &size},
		{Type: "file", Target: "/tmp/bad-\xff\xfe-utf8"},
		{Type: "tcp", Target: "socket:[1]", Socket: &model.Socket{Proto: "tcp6", State: "CLOSE_WAIT", Local: "[::1]:80", Remote: "[::ffff:10.0.0.1]:5000", RxQueue: 1 << 63, Inode: 1}},
		{Type: "tcp", Target: "socket:[2]", Handle: &model.FDHandle{Type: "tcp", Active: true, Referenced: true, KeepsAlive: true}},
		{Type: "", Target: ""},
	}
}

func TestFastFDJSONIsEncodingJSON(t *testing.T) {
	for name, s := range map[string]*model.Snapshot{
		"healthy":  bigTable(healthySnapshot(), hostileFDs()...),
		"sick":     bigTable(sickSnapshot()),
		"hostile":  bigTable(hostileSnapshot(), hostileFDs()...),
		"degraded": bigTable(degradedSnapshot(), hostileFDs()...),
		"counted": func() *model.Snapshot {
			s := bigTable(healthySnapshot())
			s.FDs.CountedFrom = "dir_size"
			s.FDs.ByType = nil
			return s
		}(),
		"nil list": func() *model.Snapshot { s := bigTable(healthySnapshot()); s.FDs.List = nil; return s }(),
	} {
		t.Run(name, func(t *testing.T) {
			s = snapshotForJSON(s)
			var want, got bytes.Buffer
			if err := writeJSON(&want, s, true); err != nil {
				t.Fatal(err)
			}
			if err := writeSnapshotJSON(&got, s, true); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want.Bytes(), got.Bytes()) {
				i := 0
				for i < want.Len() && i < got.Len() && want.Bytes()[i] == got.Bytes()[i] {
					i++
				}
				t.Fatalf("differs at byte %d:\nencoding/json %.120q\nby hand       %.120q", i, want.Bytes()[i:], got.Bytes()[i:])
			}
		})
	}
}

// FuzzFastFDJSON: any strings in the fd table encode exactly as encoding/json does.
func FuzzFastFDJSON(f *testing.F) {
	f.Add("/tmp/x", "tcp", "1.2.3.4:5", "CLOSE_WAIT")
	f.Add("\xff\u2028\"\\<", "\x00", "", "\n")
	f.Fuzz(func(t *testing.T, target, typ, local, state string) {
		fd := model.FD{Type: typ, Target: target, Socket: &model.Socket{Local: local, State: state}}
		s := bigTable(&model.Snapshot{Schema: model.Schema}, fd, model.FD{Target: local, Type: state})
		s.FDs.ByType = map[string]int{typ: 1, state: 2}
		var want, got bytes.Buffer
		if err := writeJSON(&want, s, true); err != nil {
			t.Fatal(err)
		}
		if err := writeSnapshotJSON(&got, s, true); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want.Bytes(), got.Bytes()) || !json.Valid(got.Bytes()) {
			t.Fatalf("differs:\n%q\n%q", want.Bytes(), got.Bytes())
		}
	})
}
