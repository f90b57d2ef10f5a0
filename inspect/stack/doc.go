// Package stack is `nodeinspect stack`: it checks that the main thread can answer a pause
// (stackPrecheck: a thread stuck in a blocking system call never would, and is refused
// before anything is sent), opens a session (inspect.Collector.OpenSession), pauses the
// main thread and each worker through jsstack's Sampler, and returns the distinct stacks
// as a StackDoc; the session is closed on every path.
package stack
