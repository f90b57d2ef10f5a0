// Command synthsnap writes a synthetic V8 heap snapshot of about -mb megabytes (the shape of
// heapsnap.WriteSyntheticSnapshot) to -o, for the snapshot-summary benchmark: a real 500 MB
// snapshot needs a multi-gigabyte heap to make.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/nodeinspect/nodeinspect/inspect/heapsnap"
)

func main() {
	mb := flag.Int("mb", 500, "approximate size in MB")
	out := flag.String("o", "", "output file")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "synthsnap: give -o FILE")
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "synthsnap:", err)
		os.Exit(1)
	}
	// About 180 bytes of file per item (see WriteSyntheticSnapshot).
	counts, err := heapsnap.WriteSyntheticSnapshot(f, *mb*1000000/180, 1)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "synthsnap:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s: %d Item objects\n", *out, counts["Item"])
}
