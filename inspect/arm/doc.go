// Package arm is `nodeinspect arm`: through an open session it sets the target's own
// crash evidence (a diagnostic report on a fatal error, heap-near-limit snapshots) and
// records what it changed in a state file, so that `arm --disarm` (or a later run) puts
// the old settings back.
package arm
