// Package session is the attach orchestration: everything nodeinspect does to a live
// process through its inspector, and the undoing of it. The collection (package inspect)
// hands it a Target: what it read of the process, the snapshot being filled and where
// warnings go.
//
// Who owns what:
//   - attach_safety.go decides whether a target may be signalled at all (checkAttachSafe:
//     Node binary, launcher, fd headroom, SIGUSR1 users, the same process still).
//   - attach.go finds or opens the inspector (attachRun.locate: the closer, the last checks
//     and SIGUSR1), connects and arms the dead-man's switch (attachRun.connect), and closes
//     what it opened on every path (attachRun.cleanup, handing over to package closer).
//   - attach_apply.go, owners.go, delay.go and blocked_stack.go add what the process said
//     to the snapshot: heap, handles, socket owners, the loop's delay, a blocked stack.
//   - session.go keeps a session open for stack, profile and heap (Session: the per-target
//     lock, the domains a caller enabled, disabled again before the close); heap_session.go
//     reads the heap at each watch sample (HeapSession); arm.go arms crash evidence;
//     detach.go closes an inspector an earlier run left.
//
// Package inspect/attach is the protocol (the only importer of the WebSocket library) and
// package inspect/closer the detached closer; this package defines when and how they are
// used.
package session
