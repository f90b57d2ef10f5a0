package inspect

// readContainer fills the snapshot's container section and keeps what the end of the
// window needs.
func (col *collection) readContainer() {
	ctr, w, warnings := col.c.Containers().Read(col.PID, col.status)
	for _, s := range warnings {
		col.Warn("%s", s)
	}
	col.Snap.Container, col.ctrWindow = ctr, w
}

// finishContainer measures the container's CPU throttling and OOM kills over the window.
// Commands that do not sample the loop (fds, mem...) have no window and say nothing about
// it; report with --sample 0 says throttling was not measured.
func (col *collection) finishContainer(measured bool) {
	warn := col.Warn
	if col.opt.Sections&SectionLoop == 0 {
		warn = func(string, ...any) {}
	}
	col.ctrWindow.Finish(col.Snap.Container, col.c.Now(), measured, warn)
}
