package probes

import (
	"fmt"
	"os"
)

// NetNamespace returns the identity of the network namespace of pid, the text of the
// /proc/<pid>/ns/net link such as "net:[4026531840]". Two processes share a namespace
// exactly when the texts are equal. Reading another user's link needs ptrace access.
func (p FS) NetNamespace(pid int) (string, error) {
	path := p.PidPath(pid, "ns", "net")
	link, err := os.Readlink(path)
	if err != nil {
		return "", fmt.Errorf("read network namespace: %w", err)
	}
	return link, nil
}
