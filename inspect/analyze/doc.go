// Package analyze turns saved documents into findings without a live process:
// FromNodeReport reads a Node.js diagnostic report (process.report, --report-on-signal)
// into a Snapshot, and Reevaluate runs today's rules on a snapshot saved by an earlier
// `nodeinspect snapshot`. `nodeinspect analyze` uses both.
package analyze
