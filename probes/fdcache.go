package probes

import (
	"fmt"
	"os"
	"sort"
	"strconv"
)

// fdCacheRounds is how many reads it takes to re-read every known fd: each read re-reads
// the links of the fds whose number falls in this round (fd % rounds), and the links of
// every fd it has not seen before. So a watch of a 10k-fd process reads ~1.3k links per
// sample instead of 10k, and no entry is older than eight samples. A socket fd replaced
// in place is caught at once (its inode leaves the socket tables: Revalidate); what waits
// up to eight samples is a file replaced by another file under the same number, which
// changes no count a watch reports.
const fdCacheRounds = 8

// FDCache keeps the fd entries of earlier reads of one process, for repeated reads such as
// a watch. The zero value is ready to use.
type FDCache struct {
	entries map[int]FDEntry
	round   int
}

// ReadFDsCached reads the fd table like ReadFDs, but reads the link of a known fd only in
// its round. An fd closed and reopened with the same number between two reads may keep its
// old entry for up to three reads; sockets are protected by Revalidate.
func (p FS) ReadFDsCached(pid int, c *FDCache) (entries []FDEntry, vanished int, err error) {
	if c.entries == nil {
		all, vanished, err := p.ReadFDs(pid)
		if err != nil {
			return nil, vanished, err
		}
		c.entries = make(map[int]FDEntry, len(all))
		for _, e := range all {
			c.entries[e.FD] = e
		}
		c.round++
		return all, vanished, nil
	}
	dir := p.PidPath(pid, "fd")
	d, err := os.Open(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("open fd table: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", dir, err)
	}
	dfd, real := int(d.Fd()), p.isRealProc()
	buf := make([]byte, 4096)
	next := make(map[int]FDEntry, len(names))
	entries = make([]FDEntry, 0, len(names))
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		e, known := c.entries[fd]
		if !known || fd%fdCacheRounds == c.round%fdCacheRounds {
			var status uint8
			e, status, err = readFDEntry(dfd, dir, name, buf, real)
			if err != nil {
				return nil, vanished, err
			}
			if status == 1 {
				vanished++
				continue
			}
		}
		next[fd] = e
		entries = append(entries, e)
	}
	c.entries, c.round = next, c.round+1
	sort.Slice(entries, func(i, j int) bool { return entries[i].FD < entries[j].FD })
	return entries, vanished, nil
}

// Revalidate re-reads the links of the given fds (cached sockets whose inode was in no
// socket table: the fd was closed and reused) and returns their fresh entries.
func (p FS) Revalidate(pid int, c *FDCache, fds []int) []FDEntry {
	dir := p.PidPath(pid, "fd")
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	dfd, real := int(d.Fd()), p.isRealProc()
	buf := make([]byte, 4096)
	var out []FDEntry
	for _, fd := range fds {
		e, status, err := readFDEntry(dfd, dir, strconv.Itoa(fd), buf, real)
		if err != nil || status != 0 {
			delete(c.entries, fd)
			continue
		}
		c.entries[fd] = e
		out = append(out, e)
	}
	return out
}
