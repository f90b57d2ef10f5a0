package heapsnap

import (
	"bytes"
	"testing"
)

// BenchmarkSummarizeSnapshot summarises a synthetic 40 MB snapshot held in memory (MB/s is
// the parse rate; `make bench` runs the 500 MB file through the binary for time and RSS).
func BenchmarkSummarizeSnapshot(b *testing.B) {
	var buf bytes.Buffer
	if _, err := WriteSyntheticSnapshot(&buf, 200000, 1); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SummarizeSnapshot(bytes.NewReader(data), 20); err != nil {
			b.Fatal(err)
		}
	}
}
