package model

import (
	"bytes"
	"encoding/json"
)

// MarshalJSON writes the process as the contract's JSON. A process read from a Node.js
// diagnostic report (NodeBy "report") has no parent, process group, session, user, state,
// start tick or thread count in its source: those keys are null there, never a zero that
// reads as a value (the JSON contract: keys that a source cannot hold are null).
func (p Process) MarshalJSON() ([]byte, error) {
	type plain Process
	if p.NodeBy != "report" {
		return marshalRaw(plain(p))
	}
	// The outer fields are shallower than the embedded ones of the same JSON name, so they
	// win (encoding/json's rule for embedded structs) and marshal as null.
	return marshalRaw(struct {
		plain
		PPID       *int    `json:"ppid"`
		PGID       *int    `json:"pgid"`
		SID        *int    `json:"sid"`
		UID        *int    `json:"uid"`
		User       *string `json:"user"`
		State      *string `json:"state"`
		StartTicks *uint64 `json:"start_ticks"`
		Threads    *int    `json:"threads"`
	}{plain: plain(p)})
}

// marshalRaw is json.Marshal without HTML escaping, as every document of this tool is
// written (a command line with "<" stays readable).
func marshalRaw(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
