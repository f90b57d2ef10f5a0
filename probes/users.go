package probes

import (
	"os/user"
	"strconv"
	"sync"
)

var userNames sync.Map

// UserName returns the login name of uid, or the number as text when it has none.
func UserName(uid int) string {
	if v, ok := userNames.Load(uid); ok {
		return v.(string)
	}
	name := strconv.Itoa(uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	userNames.Store(uid, name)
	return name
}
