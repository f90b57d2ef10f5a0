package probes

// PidsMax reads pids.max ("max" or a number; the same in v1 and v2). It counts tasks
// (threads), not processes.
func (d CgroupDir) PidsMax() (Max, error) {
	return readWith(d, "pids.max", ParseCgroupMax)
}

// PidsCurrent reads pids.current: the tasks in the cgroup and its descendants.
func (d CgroupDir) PidsCurrent() (uint64, error) {
	return readWith(d, "pids.current", ParseCgroupUint)
}
