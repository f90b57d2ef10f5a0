package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// The fd list is nearly all of a large snapshot's JSON (16k fds: 3.6 MB), and
// encoding/json spends most of a run's user time on its reflection. writeSnapshotJSON
// writes it by hand when the output is compact, byte for byte what encoding/json writes
// (json_fds_test.go proves it on every fixture and fuzzes it), and leaves the rest of the
// document, and the indented output, to encoding/json.

// fastFDsMin is the table size from which the fd table is encoded by hand.
const fastFDsMin = 256

// fdsNull is what encoding/json writes for the snapshot's nil fd table. The fds key occurs
// once, at the top level, and a string value can never hold these bytes unescaped.
var fdsNull = []byte(`"fds":null`)

// writeSnapshotJSON writes a snapshot as writeJSON does.
func writeSnapshotJSON(buf *bytes.Buffer, s *model.Snapshot, compact bool) error {
	if !fastFDs(s, compact) {
		return writeJSON(buf, s, compact)
	}
	return streamSnapshotJSON(buf, s)
}

// fastFDs reports whether s is written with the hand-made fd table.
func fastFDs(s *model.Snapshot, compact bool) bool {
	return compact && s.FDs != nil && len(s.FDs.List) >= fastFDsMin
}

// streamChunk is how much of the fd table is encoded before it is written out: the table
// of 100k fds is 23 MB of JSON, which need not be in memory at once.
const streamChunk = 256 << 10

// streamSnapshotJSON writes s to w as compact JSON, the fd table in chunks as it is
// encoded. Everything that can fail (encoding the rest of the document) happens before the
// first byte is written, so a failure writes nothing.
func streamSnapshotJSON(w io.Writer, s *model.Snapshot) error {
	rest := *s
	rest.FDs = nil
	var doc bytes.Buffer
	if err := writeJSON(&doc, &rest, true); err != nil {
		return err
	}
	i := bytes.Index(doc.Bytes(), fdsNull)
	if i < 0 {
		return fmt.Errorf("encode json: no fds key in the snapshot")
	}
	out := make([]byte, 0, streamChunk+4096)
	out = append(out, doc.Bytes()[:i]...)
	out = append(out, `"fds":`...)
	var err error
	out = appendFDTableTo(out, s.FDs, func(b []byte) []byte {
		if err == nil && len(b) >= streamChunk {
			_, err = w.Write(b)
			return b[:0]
		}
		return b
	})
	out = append(out, doc.Bytes()[i+len(fdsNull):]...)
	if err == nil {
		_, err = w.Write(out)
	}
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// appendFDTableTo appends t as encoding/json encodes inspect.FDTable, handing the buffer
// to flush after each fd (flush returns the buffer to go on with).
func appendFDTableTo(b []byte, t *model.FDTable, flush func([]byte) []byte) []byte {
	b = append(b, `{"open":`...)
	b = strconv.AppendInt(b, int64(t.Open), 10)
	b = append(b, `,"by_type":`...)
	b = appendCounts(b, t.ByType)
	b = append(b, `,"deleted":`...)
	if t.Deleted == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, int64(*t.Deleted), 10)
	}
	b = append(b, `,"deleted_bytes":`...)
	if t.DeletedBytes == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, *t.DeletedBytes, 10)
	}
	b = append(b, `,"vanished":`...)
	b = strconv.AppendInt(b, int64(t.Vanished), 10)
	b = append(b, `,"list":`...)
	if t.List == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range t.List {
			if i > 0 {
				b = append(b, ',')
			}
			b = flush(appendFD(b, &t.List[i]))
		}
		b = append(b, ']')
	}
	if t.CountedFrom != "" {
		b = append(b, `,"counted_from":`...)
		b = appendJSONString(b, t.CountedFrom)
	}
	return append(b, '}')
}

// appendCounts appends a map of counts with its keys sorted, as encoding/json does.
func appendCounts(b []byte, m map[string]int) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(m[k]), 10)
	}
	return append(b, '}')
}

// appendFD appends one fd as encoding/json encodes inspect.FD.
func appendFD(b []byte, fd *model.FD) []byte {
	b = append(b, `{"fd":`...)
	b = strconv.AppendInt(b, int64(fd.FD), 10)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, fd.Type)
	b = append(b, `,"target":`...)
	b = appendJSONString(b, fd.Target)
	b = append(b, `,"deleted":`...)
	b = strconv.AppendBool(b, fd.Deleted)
	b = append(b, `,"size":`...)
	if fd.Size == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, *fd.Size, 10)
	}
	b = append(b, `,"socket":`...)
	if so := fd.Socket; so == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"proto":`...)
		b = appendJSONString(b, so.Proto)
		b = append(b, `,"state":`...)
		b = appendJSONString(b, so.State)
		b = append(b, `,"local":`...)
		b = appendJSONString(b, so.Local)
		b = append(b, `,"remote":`...)
		b = appendJSONString(b, so.Remote)
		b = append(b, `,"rx_queue":`...)
		b = strconv.AppendUint(b, so.RxQueue, 10)
		b = append(b, `,"tx_queue":`...)
		b = strconv.AppendUint(b, so.TxQueue, 10)
		b = append(b, `,"inode":`...)
		b = strconv.AppendUint(b, so.Inode, 10)
		b = append(b, '}')
	}
	if h := fd.Handle; h != nil {
		b = append(b, `,"handle":{"type":`...)
		b = appendJSONString(b, h.Type)
		b = append(b, `,"active":`...)
		b = strconv.AppendBool(b, h.Active)
		b = append(b, `,"referenced":`...)
		b = strconv.AppendBool(b, h.Referenced)
		b = append(b, `,"keeps_alive":`...)
		b = strconv.AppendBool(b, h.KeepsAlive)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendJSONString appends s quoted. Printable ASCII without '"' or '\' is copied as is;
// anything else goes through encoding/json (without HTML escaping, as writeJSON), so the
// escaping rules are the standard library's, not ours.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return appendJSONStringSlow(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendJSONStringSlow(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		// A string always encodes; keep the output valid JSON regardless.
		return append(b, `""`...)
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}
