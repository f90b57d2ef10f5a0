package probes

import "syscall"

// errESRCH is returned by reads of /proc/<pid>/* files of a process that exited after open.
var errESRCH error = syscall.ESRCH
