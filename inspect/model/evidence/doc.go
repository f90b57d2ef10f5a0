// Package evidence is the typed evidence of a finding: each Value carries its raw number
// (or text, list, record) and its Unit, so renderers format from the unit and never from a
// key's name, and it marshals to the plain JSON values the contract shows. Decode restores
// the units of a saved document from its keys. It depends on nothing of ours; model's
// Finding holds an Evidence.
package evidence
