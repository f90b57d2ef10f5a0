package probes

import "strings"

// ContainerIdentity is what a cgroup path says about the container and the Kubernetes pod
// it belongs to. Container runtimes name cgroups after the container id (64 hex digits);
// the kubelet names pod cgroups after the pod's uid.
type ContainerIdentity struct {
	// ID is the container id (64 lower-case hex digits), "" when the path names none.
	ID string
	// PodUID is the Kubernetes pod uid ("0f1e..-..."), "" outside a pod.
	PodUID string
	// Runtime is "docker", "containerd", "cri-o" or "podman" when the name says so.
	Runtime string
}

// scopePrefixes map the prefix of a systemd scope unit to the runtime that makes it:
// docker-<id>.scope (docker, systemd driver), cri-containerd-<id>.scope (containerd's CRI
// plugin), crio-<id>.scope (cri-o; crio-conmon-<id>.scope is its monitor, not the
// container), libpod-<id>.scope (podman).
var scopePrefixes = []struct{ prefix, runtime string }{
	{"cri-containerd-", "containerd"},
	{"docker-", "docker"},
	{"crio-", "cri-o"},
	{"libpod-", "podman"},
}

// ParseContainerIdentity reads a container id and a pod uid from a cgroup path, for the
// layouts of the cgroupfs and systemd drivers:
//
//	/docker/<id>                                   docker, cgroupfs driver
//	/system.slice/docker-<id>.scope                docker, systemd driver
//	/kubepods/burstable/pod<uid>/<id>              kubelet, cgroupfs driver
//	/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid with _>.slice/cri-containerd-<id>.scope
//	.../crio-<id>.scope, /machine.slice/libpod-<id>.scope
//
// The innermost (last) match wins, so docker-in-docker names the inner container. A path
// that names neither gives the zero value.
func ParseContainerIdentity(path string) ContainerIdentity {
	var out ContainerIdentity
	parts := strings.Split(path, "/")
	for i, part := range parts {
		if uid, ok := podUIDOf(part); ok {
			out.PodUID = uid
			continue
		}
		if id, runtime, ok := containerIDOf(part); ok {
			out.ID, out.Runtime = id, runtime
			if runtime == "" && i > 0 && parts[i-1] == "docker" {
				out.Runtime = "docker"
			}
		}
	}
	return out
}

// containerIDOf recognises a cgroup name that is a container: "<id>", "<prefix><id>.scope"
// or "<prefix><id>" (podman's cgroupfs driver).
func containerIDOf(name string) (id, runtime string, ok bool) {
	if isHex(name, 64) {
		return name, "", true
	}
	for _, s := range scopePrefixes {
		rest, found := strings.CutPrefix(name, s.prefix)
		if !found {
			continue
		}
		rest = strings.TrimSuffix(rest, ".scope")
		if isHex(rest, 64) {
			return rest, s.runtime, true
		}
	}
	return "", "", false
}

// podUIDOf recognises a pod cgroup: "pod<uid>" (cgroupfs driver) or
// "kubepods[-<qos>]-pod<uid with _ for ->.slice" (systemd driver). The uid is a UUID, or 32
// hex digits for a static pod (a hash of its manifest).
func podUIDOf(name string) (string, bool) {
	var uid string
	switch {
	case strings.HasPrefix(name, "kubepods") && strings.HasSuffix(name, ".slice"):
		i := strings.LastIndex(name, "-pod")
		if i < 0 {
			return "", false
		}
		uid = strings.ReplaceAll(strings.TrimSuffix(name[i+len("-pod"):], ".slice"), "_", "-")
	case strings.HasPrefix(name, "pod"):
		uid = name[len("pod"):]
	default:
		return "", false
	}
	if isUUID(uid) || isHex(uid, 32) {
		return uid, true
	}
	return "", false
}

// isHex reports whether s is n lower-case hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isUUID reports whether s is 8-4-4-4-12 hex digits.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, group := range strings.Split(s, "-") {
		if !isHex(strings.ToLower(group), []int{8, 4, 4, 4, 12}[min(i, 4)]) || i > 4 {
			return false
		}
	}
	return strings.Count(s, "-") == 4
}
