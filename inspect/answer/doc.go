// Package answer adds what an attached process said to its snapshot: the query's heap
// and handles (ApplyAnswer), the owners of its sockets and the age of the requests they
// carry (AskOwners), the event loop's own delay (MeasureDelay, LoopDelay) and, for a loop
// blocked in JavaScript, where it is stuck (SampleBlockedStack). Package session decides
// when to ask; this package only asks through an open connection and records the answer.
package answer
