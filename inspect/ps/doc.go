// Package ps is the scan of every Node.js process (`nodeinspect ps`, and the exporter's
// scrape): Scan reads each process's identity, fds, sockets (one table read per network
// namespace), memory and container through an inspect.Collector, samples every main
// thread in one shared window, re-reads the queues and inspector candidates at its end, and
// runs the rules per process. It never attaches and sends no signal.
package ps
