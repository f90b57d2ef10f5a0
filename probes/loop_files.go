package probes

import (
	"os"
	"strconv"
	"syscall"
)

// taskFile is a proc file of one thread kept open through a sample window. Each read is
// one pread at offset 0: proc's seq_file generates the text afresh when a read does not
// start where the last one ended (fs/seq_file.c, seq_read_iter), so a sample costs one
// system call instead of open, read and close (and os.File's netpoller registration and
// removal around them). Permission is checked by the kernel on every read of the files
// that need ptrace access (syscall, io), as it is for a fresh open.
type taskFile struct {
	path string
	// fd is the open file, -1 until the first read that could open it.
	fd  int
	buf []byte
}

// taskFileBuf is the first buffer size: every file a sampler reads (stat, io, schedstat,
// syscall, children) is under 1 KiB; a longer one grows the buffer.
const taskFileBuf = 1024

func newTaskFile(path string) *taskFile { return &taskFile{path: path, fd: -1} }

// read returns the file's text now. The slice is the file's buffer: it is valid until the
// next read of the same file. A failed open is retried at the next read.
func (f *taskFile) read() ([]byte, error) {
	if f.fd < 0 {
		fd, err := syscall.Open(f.path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		for err == syscall.EINTR {
			fd, err = syscall.Open(f.path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: f.path, Err: err}
		}
		f.fd = fd
	}
	if f.buf == nil {
		f.buf = make([]byte, taskFileBuf)
	}
	for {
		n, err := syscall.Pread(f.fd, f.buf, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: f.path, Err: err}
		}
		if n < len(f.buf) || len(f.buf) >= maxProcFileSize {
			return f.buf[:n], nil
		}
		f.buf = make([]byte, 2*len(f.buf))
	}
}

// close closes the file if it was opened.
func (f *taskFile) close() {
	if f.fd >= 0 {
		_ = syscall.Close(f.fd)
		f.fd = -1
	}
}

// taskFiles are the files of one thread a sampler reads again and again.
type taskFiles struct {
	stat, io, schedstat, syscall, children *taskFile
	// status is read at the start and the end of report's window only (context switches).
	status string
}

func (p FS) openTaskFiles(pid, tid int) *taskFiles {
	t := strconv.Itoa(tid)
	return &taskFiles{
		stat:      newTaskFile(p.PidPath(pid, "task", t, "stat")),
		io:        newTaskFile(p.PidPath(pid, "task", t, "io")),
		schedstat: newTaskFile(p.PidPath(pid, "task", t, "schedstat")),
		syscall:   newTaskFile(p.PidPath(pid, "task", t, "syscall")),
		children:  newTaskFile(p.PidPath(pid, "task", t, "children")),
		status:    p.PidPath(pid, "task", t, "status"),
	}
}

func (t *taskFiles) close() {
	for _, f := range []*taskFile{t.stat, t.io, t.schedstat, t.syscall, t.children} {
		f.close()
	}
}

// readStat reads and parses the thread's stat.
func (t *taskFiles) readStat() (Stat, error) {
	data, err := t.stat.read()
	if err != nil {
		return Stat{}, err
	}
	return ParseStat(data)
}

// counters reads the progress counters of the thread (TaskCounters) through the open
// files. Only a failure to read task stat is an error (it also says the thread is gone);
// the other counters are nil when unreadable, and denied reports whether task io was
// refused for lack of privilege. status (the context switches) is read only when
// withStatus is set, since no verdict uses it.
func (t *taskFiles) counters(withStatus bool) (c TaskCounters, st Stat, denied bool, err error) {
	st, err = t.readStat()
	if err != nil {
		return c, st, false, err
	}
	c.CPUTicks = st.UTime + st.STime
	if data, err := t.io.read(); err == nil {
		if r, w, err := ParseTaskIO(data); err == nil {
			c.SysCR, c.SysCW = &r, &w
		}
	} else if IsDenied(err) {
		denied = true
	}
	if withStatus {
		if data, err := ReadFile(t.status); err == nil {
			if v, n, err := ParseCtxtSwitches(data); err == nil {
				c.Voluntary, c.Nonvoluntary = &v, &n
			}
		}
	}
	t.readSchedstat(&c)
	return c, st, denied, nil
}

// readSchedstat fills c's RunNS and WaitNS (left nil when schedstat is unreadable).
func (t *taskFiles) readSchedstat(c *TaskCounters) {
	if data, err := t.schedstat.read(); err == nil {
		if run, wait, err := ParseSchedstat(data); err == nil {
			c.RunNS, c.WaitNS = &run, &wait
		}
	}
}

// hasChildren reports whether the thread has child processes now (task/<tid>/children,
// CONFIG_PROC_CHILDREN); known is false when the file cannot be read.
func (t *taskFiles) hasChildren() (has, known bool) {
	data, err := t.children.read()
	if err != nil {
		return false, false
	}
	for _, b := range data {
		if b >= '0' && b <= '9' {
			return true, true
		}
	}
	return false, true
}
