// Command loadgen drives an HTTP server with -c keep-alive connections for -d and prints
// one JSON line: requests per second and latency percentiles (closed loop: each connection
// sends its next request when the previous answer arrived).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080/", "URL to request")
	conns := flag.Int("c", 8, "concurrent connections")
	d := flag.Duration("d", 10*time.Second, "duration")
	flag.Parse()
	tr := &http.Transport{MaxIdleConnsPerHost: *conns, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var mu sync.Mutex
	var lat []time.Duration
	errors := 0
	end := time.Now().Add(*d)
	var wg sync.WaitGroup
	for i := 0; i < *conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for time.Now().Before(end) {
				t0 := time.Now()
				resp, err := client.Get(*url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errors += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	out, _ := json.Marshal(map[string]any{"requests": len(lat), "errors": errors, "rps": float64(len(lat)) / d.Seconds(),
		"p50_ms": q(0.5), "p99_ms": q(0.99), "max_ms": q(1)})
	fmt.Fprintln(os.Stdout, string(out))
}
