// Package fakeproc writes fake /proc trees for tests: the files nodeinspect reads, with the
// exact text the kernel produces, so every scenario and edge case can be built on disk in
// milliseconds (100k fds, hostile names, states no real process holds still).
package fakeproc

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// BootTime is the btime written to <root>/stat (2026-11-22T00:00:00Z).
const BootTime = 1795305600

// Tree is a fake proc root being written.
type Tree struct {
	Root string
}

// New creates a fake proc root at dir with a /proc/stat holding BootTime.
func New(dir string) (*Tree, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	stat := fmt.Sprintf("cpu  1 2 3 4 5 6 7 0 0 0\nintr 0\nctxt 0\nbtime %d\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n", BootTime)
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
		return nil, err
	}
	meminfo := "MemTotal:       24576000 kB\nMemFree:        10000000 kB\nMemAvailable:   20000000 kB\nBuffers:          100000 kB\nCached:          2000000 kB\n"
	if err := os.WriteFile(filepath.Join(dir, "meminfo"), []byte(meminfo), 0o644); err != nil {
		return nil, err
	}
	return &Tree{Root: dir}, nil
}

// Socket is a socket row of a fake network namespace.
type Socket struct {
	// Proto is tcp, tcp6, udp, udp6, unix or netlink.
	Proto string
	// State is the kernel's hex state ("0A" LISTEN, "08" CLOSE_WAIT, "01" ESTABLISHED...).
	State string
	// Local and Remote are "ip:port" or "[ipv6]:port"; for unix Local is the path.
	Local, Remote string
	RxQueue       uint64
	TxQueue       uint64
	Inode         uint64
	// UnixFlags is the Flags column of net/unix ("00010000" for a listener).
	UnixFlags string
}

// FD is one entry of a fake fd table: fd/<Num> is a symlink to Target.
type FD struct {
	Num    int
	Target string
}

// Proc describes one fake process.
type Proc struct {
	PID, PPID, PGID, SID int
	// Comm is the command name (may hold spaces and parentheses).
	Comm string
	// State is the state letter (R, S, D, Z, T).
	State      string
	Threads    int
	StartTicks uint64
	UTime      uint64
	UID        int
	// Exe is the target of the exe link ("" for none, as for kernel threads or zombies).
	Exe     string
	Cmdline []string
	// RSSKB etc. are the status memory lines, in kB.
	RSSKB, HWMKB, AnonKB, FileKB, ShmemKB, SwapKB uint64
	// PssKB is the smaps_rollup Pss line; NoSmaps leaves the file out.
	PssKB   uint64
	NoSmaps bool
	// SoftNofile and HardNofile are the open-files limits; 0 means "unlimited".
	SoftNofile, HardNofile uint64
	FDs                    []FD
	// Sockets are the rows of this process's network namespace (net/*).
	Sockets []Socket
	// Syscall and Wchan are the main thread's task/<pid>/syscall and wchan text.
	Syscall, Wchan string
	// Children is the text of task/<pid>/children ("" leaves it empty).
	Children []int
	// Environ is the NUL-separated start-up environment.
	Environ []string
	// Kthread sets PF_KTHREAD in the stat flags.
	Kthread bool
	// FDInfo is the text of fdinfo/<fd>, by fd (epoll fds list what they watch there).
	FDInfo map[int]string
	// OtherThreads are threads besides the main one: their task/<tid>/syscall text by tid.
	OtherThreads map[int]string
}

// StatLine formats the stat file of p exactly as the kernel does (fs/proc/array.c).
func StatLine(p Proc) string {
	flags := uint64(0x400000)
	if p.Kthread {
		flags |= 0x00200000
	}
	threads := p.Threads
	if threads == 0 {
		threads = 1
	}
	rssPages := p.RSSKB / 4
	return fmt.Sprintf("%d (%s) %s %d %d %d 0 -1 %d 100 0 0 0 %d 0 0 0 20 0 %d 0 %d 123456789 %d 18446744073709551615 1 1 0 0 0 0 0 4096 17922 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		p.PID, p.Comm, p.State, p.PPID, p.PGID, p.SID, flags, p.UTime, threads, p.StartTicks, rssPages)
}

// Add writes the files of one process.
func (t *Tree) Add(p Proc) error {
	dir := filepath.Join(t.Root, strconv.Itoa(p.PID))
	task := filepath.Join(dir, "task", strconv.Itoa(p.PID))
	for _, d := range []string{filepath.Join(dir, "fd"), filepath.Join(dir, "net"), filepath.Join(dir, "ns"), task} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if p.State == "" {
		p.State = "S"
	}
	files := map[string]string{
		"stat":    StatLine(p),
		"status":  statusText(p),
		"cmdline": cmdlineText(p.Cmdline),
		"limits":  limitsText(p),
		"environ": cmdlineText(p.Environ),
		"wchan":   p.Wchan,
		"net/tcp": "", "net/tcp6": "", "net/udp": "", "net/udp6": "", "net/unix": "", "net/netlink": "",
	}
	if !p.NoSmaps {
		files["smaps_rollup"] = smapsText(p)
	}
	for k, v := range netTables(p.Sockets) {
		files[k] = v
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	var children []string
	for _, c := range p.Children {
		children = append(children, strconv.Itoa(c))
	}
	childrenText := ""
	if len(children) > 0 {
		childrenText = strings.Join(children, " ") + " "
	}
	syscall := p.Syscall
	if syscall == "" {
		syscall = "281 0x3 0x7ffd 0x400 0xffffffff 0x0 0x8 0x7ffd 0x7f00\n"
	}
	wchan := p.Wchan
	if wchan == "" && strings.HasPrefix(syscall, "281 ") {
		wchan = "do_epoll_wait"
	}
	taskFiles := map[string]string{
		"stat":     StatLine(p),
		"syscall":  syscall,
		"wchan":    wchan,
		"children": childrenText,
		// The progress counters of the main thread: a fake tree is read at one instant,
		// so they never move over a window (no progress). No schedstat: a static one would
		// say a running thread never got a CPU (starved, not judged).
		"io":     "rchar: 4096\nwchar: 2048\nsyscr: 100\nsyscw: 50\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n",
		"status": statusText(p) + "voluntary_ctxt_switches:\t10\nnonvoluntary_ctxt_switches:\t2\n",
	}
	for name, text := range taskFiles {
		if err := os.WriteFile(filepath.Join(task, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	if p.Exe != "" {
		if err := os.Symlink(p.Exe, filepath.Join(dir, "exe")); err != nil {
			return err
		}
	}
	if err := os.Symlink("net:[4026531840]", filepath.Join(dir, "ns", "net")); err != nil {
		return err
	}
	for _, fd := range p.FDs {
		if err := os.Symlink(fd.Target, filepath.Join(dir, "fd", strconv.Itoa(fd.Num))); err != nil {
			return err
		}
	}
	if len(p.FDInfo) > 0 {
		if err := os.MkdirAll(filepath.Join(dir, "fdinfo"), 0o755); err != nil {
			return err
		}
		for fd, text := range p.FDInfo {
			if err := os.WriteFile(filepath.Join(dir, "fdinfo", strconv.Itoa(fd)), []byte(text), 0o644); err != nil {
				return err
			}
		}
	}
	for tid, text := range p.OtherThreads {
		tdir := filepath.Join(dir, "task", strconv.Itoa(tid))
		if err := os.MkdirAll(tdir, 0o755); err != nil {
			return err
		}
		th := p
		th.PID = tid
		for name, content := range map[string]string{"syscall": text, "stat": StatLine(th)} {
			if err := os.WriteFile(filepath.Join(tdir, name), []byte(content), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

func cmdlineText(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return strings.Join(args, "\x00") + "\x00"
}

func statusText(p Proc) string {
	var b strings.Builder
	name := p.Comm
	if len(name) > 15 {
		name = name[:15]
	}
	fmt.Fprintf(&b, "Name:\t%s\nUmask:\t0022\nState:\t%s (sleeping)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", name, p.State, p.PID, p.PID, p.PPID)
	fmt.Fprintf(&b, "Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nFDSize:\t256\nGroups:\t\nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", p.UID, p.UID, p.UID, p.UID, p.UID, p.UID, p.UID, p.UID, p.PID, p.PID, p.PGID, p.SID)
	if p.State != "Z" && !p.Kthread {
		fmt.Fprintf(&b, "VmPeak:\t 1000000 kB\nVmSize:\t 1000000 kB\nVmLck:\t       0 kB\nVmPin:\t       0 kB\nVmHWM:\t%8d kB\nVmRSS:\t%8d kB\nRssAnon:\t%8d kB\nRssFile:\t%8d kB\nRssShmem:\t%8d kB\nVmData:\t  100000 kB\nVmStk:\t     132 kB\nVmExe:\t   50000 kB\nVmLib:\t    4000 kB\nVmPTE:\t     800 kB\nVmSwap:\t%8d kB\n",
			p.HWMKB, p.RSSKB, p.AnonKB, p.FileKB, p.ShmemKB, p.SwapKB)
	}
	threads := p.Threads
	if threads == 0 {
		threads = 1
	}
	fmt.Fprintf(&b, "Threads:\t%d\nSigQ:\t0/63499\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\nSigIgn:\t0000000001001000\nSigCgt:\t0000000188004602\n", threads)
	return b.String()
}

func limitsText(p Proc) string {
	val := func(v uint64) string {
		if v == 0 {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	rows := [][4]string{
		{"Max cpu time", "unlimited", "unlimited", "seconds"},
		{"Max file size", "unlimited", "unlimited", "bytes"},
		{"Max data size", "unlimited", "unlimited", "bytes"},
		{"Max stack size", "8388608", "unlimited", "bytes"},
		{"Max core file size", "0", "unlimited", "bytes"},
		{"Max resident set", "unlimited", "unlimited", "bytes"},
		{"Max processes", "95706", "95706", "processes"},
		{"Max open files", val(p.SoftNofile), val(p.HardNofile), "files"},
		{"Max locked memory", "8388608", "8388608", "bytes"},
		{"Max address space", "unlimited", "unlimited", "bytes"},
		{"Max file locks", "unlimited", "unlimited", "locks"},
		{"Max pending signals", "95706", "95706", "signals"},
		{"Max msgqueue size", "819200", "819200", "bytes"},
		{"Max nice priority", "0", "0", ""},
		{"Max realtime priority", "0", "0", ""},
		{"Max realtime timeout", "unlimited", "unlimited", "us"},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", r[0], r[1], r[2], r[3])
	}
	return b.String()
}

func smapsText(p Proc) string {
	return fmt.Sprintf("55d0c0000000-7ffd00000000 ---p 00000000 00:00 0                          [rollup]\nRss:            %8d kB\nPss:            %8d kB\nPss_Dirty:      %8d kB\nPss_Anon:       %8d kB\nPss_File:       %8d kB\nPss_Shmem:      %8d kB\nShared_Clean:          0 kB\nShared_Dirty:          0 kB\nPrivate_Clean:         0 kB\nPrivate_Dirty:         0 kB\nReferenced:     %8d kB\nAnonymous:      %8d kB\nKSM:                   0 kB\nLazyFree:              0 kB\nAnonHugePages:         0 kB\nShmemPmdMapped:        0 kB\nFilePmdMapped:         0 kB\nShared_Hugetlb:        0 kB\nPrivate_Hugetlb:       0 kB\nSwap:           %8d kB\nSwapPss:        %8d kB\nLocked:                0 kB\n",
		p.RSSKB, p.PssKB, p.AnonKB, p.AnonKB, p.FileKB, p.ShmemKB, p.RSSKB, p.AnonKB, p.SwapKB, p.SwapKB)
}

const (
	tcpHeader  = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	tcp6Header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	udpHeader  = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	udp6Header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	unixHeader = "Num       RefCount Protocol Flags    Type St Inode Path\n"
	nlHeader   = "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n"
)

// netTables formats socket rows into the six net/* files.
func netTables(socks []Socket) map[string]string {
	out := map[string]*strings.Builder{}
	headers := map[string]string{"tcp": tcpHeader, "tcp6": tcp6Header, "udp": udpHeader, "udp6": udp6Header, "unix": unixHeader, "netlink": nlHeader}
	n := map[string]int{}
	for _, s := range socks {
		b := out[s.Proto]
		if b == nil {
			b = &strings.Builder{}
			b.WriteString(headers[s.Proto])
			out[s.Proto] = b
		}
		switch s.Proto {
		case "tcp", "tcp6", "udp", "udp6":
			fmt.Fprintf(b, "%4d: %s %s %s %08X:%08X 00:00000000 00000000  1000        0 %d 1 0000000000000000 100 0 0 10 0\n",
				n[s.Proto], hexAddr(s.Local), hexAddr(s.Remote), s.State, s.TxQueue, s.RxQueue, s.Inode)
		case "unix":
			flags := s.UnixFlags
			if flags == "" {
				flags = "00000000"
			}
			state := s.State
			if state == "" {
				state = "03"
			}
			fmt.Fprintf(b, "0000000000000000: 00000002 00000000 %s 0001 %s %d", flags, state, s.Inode)
			if s.Local != "" {
				b.WriteString(" " + s.Local)
			}
			b.WriteString("\n")
		case "netlink":
			fmt.Fprintf(b, "0000000000000000 0   %-10d 00000000 0        0        0     2        0        %d\n", n[s.Proto]+100, s.Inode)
		}
		n[s.Proto]++
	}
	res := map[string]string{}
	for proto, b := range out {
		res["net/"+proto] = b.String()
	}
	return res
}

// hexAddr encodes "ip:port" the way /proc/net/tcp prints it: each 32-bit word of the
// address in host (little-endian) byte order, then the port in hex.
func hexAddr(addr string) string {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		panic(fmt.Sprintf("fakeproc: bad address %q: %v", addr, err))
	}
	var b strings.Builder
	raw := ap.Addr().AsSlice()
	for i := 0; i < len(raw); i += 4 {
		fmt.Fprintf(&b, "%08X", binary.LittleEndian.Uint32(raw[i:i+4]))
	}
	fmt.Fprintf(&b, ":%04X", ap.Port())
	return b.String()
}
