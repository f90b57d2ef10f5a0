package inspect

// stateString is the one-letter process state of a stat row as the contract prints it.
func stateString(s string) string { return s }
