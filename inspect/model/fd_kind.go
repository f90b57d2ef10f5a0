package model

import "strings"

// IsAnonymousMemory reports whether a deleted-file target is memory rather than disk
// (memfd_create files always read as "/memfd:name (deleted)").
func IsAnonymousMemory(target string) bool {
	return strings.HasPrefix(target, "/memfd:")
}
