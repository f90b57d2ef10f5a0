package probes

import "bytes"

// LookupEnv returns the value of key in a /proc/<pid>/environ blob (NUL-separated
// KEY=VALUE entries). The environment is the one the process was started with: later
// changes to process.env are not reflected.
func LookupEnv(environ []byte, key string) (string, bool) {
	prefix := []byte(key + "=")
	for len(environ) > 0 {
		entry := environ
		if i := bytes.IndexByte(environ, 0); i >= 0 {
			entry, environ = environ[:i], environ[i+1:]
		} else {
			environ = nil
		}
		if bytes.HasPrefix(entry, prefix) {
			return string(entry[len(prefix):]), true
		}
	}
	return "", false
}

// ReadEnv returns the value of key in the start-up environment of pid. Reading another
// user's environ needs ptrace access: the error then satisfies IsDenied.
func (p FS) ReadEnv(pid int, key string) (string, bool, error) {
	data, err := ReadFile(p.PidPath(pid, "environ"))
	if err != nil {
		return "", false, err
	}
	v, ok := LookupEnv(data, key)
	return v, ok, nil
}
