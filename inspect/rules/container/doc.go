// Package container holds the rules of the container section (cgroup limits, OOM kills,
// CFS throttling, pids): CONTAINER_MEMORY_NEAR_LIMIT, OOM_KILLED, CPU_THROTTLED,
// HEAP_LIMIT_ABOVE_CONTAINER and PIDS_NEAR_LIMIT. Each stays silent when the numbers it
// needs are null: an unknown limit is not a finding. rules.Evaluate runs them.
package container
