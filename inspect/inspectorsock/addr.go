package inspectorsock

import "strings"

// DialAddr turns a listening address into one to connect to: a wildcard bind is reached
// on the loopback of the same family.
func DialAddr(local string) string {
	switch {
	case strings.HasPrefix(local, "0.0.0.0:"):
		return "127.0.0.1:" + strings.TrimPrefix(local, "0.0.0.0:")
	case strings.HasPrefix(local, "[::]:"):
		return "[::1]:" + strings.TrimPrefix(local, "[::]:")
	}
	return local
}
