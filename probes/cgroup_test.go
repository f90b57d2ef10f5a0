package probes

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// /proc/self/cgroup of a shell on this machine (v1 controllers, a v2 hierarchy without
// them), and of a container on a v2 Kubernetes node.
const (
	hostCgroup = "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n4:memory:/process_api/e41c2cf9695e25816cd47327f2220376\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n"
	podCgroup  = "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f1e2d3c_4b5a_6978_8a9b_acbdcedf0011.slice/cri-containerd-9b1c8f7e6d5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c.scope\n"
)

// The cgroup lines of this machine's /proc/self/mountinfo, plus a root filesystem line.
const hostMountinfo = `23 1 0:21 / / rw,relatime - overlay overlay rw,lowerdir=/a,upperdir=/b,workdir=/c
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

func TestParseProcCgroup(t *testing.T) {
	got, err := ParseProcCgroup([]byte(hostCgroup))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || got[5].Path != "/process_api/e41c2cf9695e25816cd47327f2220376" || !got[5].Has("memory") ||
		got[0].Controllers[0] != "name=systemd" || got[9].HierarchyID != 0 || got[9].Controllers != nil || got[9].Path != "/" {
		t.Errorf("got %+v", got)
	}
	// A cgroup name may hold ':'; a path outside the reader's namespace starts with /..
	got, err = ParseProcCgroup([]byte("0::/../weird:name\n"))
	if err != nil || got[0].Path != "/../weird:name" {
		t.Errorf("got %+v, %v", got, err)
	}
	for _, bad := range []string{"", "\n", "x::/", "1:memory", "1:memory:relative", "-1::/", "0:/"} {
		if _, err := ParseProcCgroup([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseProcCgroup(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestParseCgroupMounts(t *testing.T) {
	got, err := ParseCgroupMounts([]byte(hostMountinfo))
	if err != nil {
		t.Fatal(err)
	}
	want := []CgroupMount{
		{Version: 1, Controllers: []string{"cpu"}, Root: "/", MountPoint: "/sys/fs/cgroup/cpu"},
		{Version: 1, Controllers: []string{"cpuacct"}, Root: "/", MountPoint: "/sys/fs/cgroup/cpuacct"},
		{Version: 1, Controllers: []string{"memory"}, Root: "/", MountPoint: "/sys/fs/cgroup/memory"},
		{Version: 1, Controllers: []string{"pids"}, Root: "/", MountPoint: "/sys/fs/cgroup/pids"},
		{Version: 1, Controllers: []string{"name=systemd"}, Root: "/", MountPoint: "/sys/fs/cgroup/systemd"},
		{Version: 2, Root: "/", MountPoint: "/sys/fs/cgroup/unified"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	// Optional fields, a mount point with a space, a cgroup namespace's root.
	got, err = ParseCgroupMounts([]byte("1500 1400 0:31 /.. /sys/fs/my\\040cgroup ro,nosuid master:9 shared:3 - cgroup2 cgroup rw,nsdelegate\n"))
	if err != nil || len(got) != 1 || got[0].MountPoint != "/sys/fs/my cgroup" || got[0].Root != "/.." || got[0].Version != 2 {
		t.Errorf("got %+v, %v", got, err)
	}
	for _, bad := range []string{"31 23 0:28 / /sys/fs/cgroup rw", "1 2 3 - cgroup2", "1 2 3 4 5 6 - \n"} {
		if _, err := ParseCgroupMounts([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCgroupMounts(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestCgroupMountDir(t *testing.T) {
	whole := CgroupMount{Version: 1, Root: "/", MountPoint: "/sys/fs/cgroup/memory"}
	for _, c := range []struct {
		m           CgroupMount
		path        string
		dir, top    string
		ok          bool
		prefix      string
		explanation string
	}{
		{whole, "/docker/abc", "/sys/fs/cgroup/memory/docker/abc", "/sys/fs/cgroup/memory", true, "", "whole hierarchy"},
		{whole, "/", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory", true, "", "the root itself"},
		{whole, "/docker/abc", "/fake/sys/fs/cgroup/memory/docker/abc", "/fake/sys/fs/cgroup/memory", true, "/fake", "a fake root"},
		{whole, "/../other", "", "", false, "", "outside the reader's namespace"},
		{CgroupMount{Version: 2, Root: "/kubepods/pod1", MountPoint: "/sys/fs/cgroup"}, "/kubepods/pod1/ctr", "/sys/fs/cgroup/ctr", "/sys/fs/cgroup", true, "", "a mounted subtree"},
		{CgroupMount{Version: 2, Root: "/kubepods/pod1", MountPoint: "/sys/fs/cgroup"}, "/kubepods/pod10/ctr", "", "", false, "", "a sibling with the same prefix"},
		{CgroupMount{Version: 2, Root: "/..", MountPoint: "/sys/fs/cgroup"}, "/../ctr", "/sys/fs/cgroup/ctr", "/sys/fs/cgroup", true, "", "a namespace root above the reader's"},
	} {
		dir, top, ok := c.m.Dir(c.prefix, c.path)
		if dir != c.dir || top != c.top || ok != c.ok {
			t.Errorf("%s: Dir(%q) = %q, %q, %v; want %q, %q, %v", c.explanation, c.path, dir, top, ok, c.dir, c.top, c.ok)
		}
	}
}

func TestCgroupValueParsers(t *testing.T) {
	if m, err := ParseCgroupMax([]byte("max\n")); err != nil || !m.Unlimited {
		t.Errorf("max: %+v %v", m, err)
	}
	if m, err := ParseCgroupMax([]byte("536870912\n")); err != nil || m != (Max{Value: 536870912}) {
		t.Errorf("number: %+v %v", m, err)
	}
	if m, err := ParseV1MemoryLimit([]byte("9223372036854771712\n")); err != nil || !m.Unlimited {
		t.Errorf("v1 unlimited (4 KiB pages): %+v %v", m, err)
	}
	if m, err := ParseV1MemoryLimit([]byte("9223372036854710272\n")); err != nil || !m.Unlimited {
		t.Errorf("v1 unlimited (64 KiB pages): %+v %v", m, err)
	}
	if m, err := ParseV1MemoryLimit([]byte("209715200\n")); err != nil || m.Unlimited || m.Value != 209715200 {
		t.Errorf("v1 limit: %+v %v", m, err)
	}
	if m, err := ParseV1CFSQuota([]byte("-1\n")); err != nil || !m.Unlimited {
		t.Errorf("v1 quota -1: %+v %v", m, err)
	}
	if q, p, err := ParseCPUMax([]byte("max 100000\n")); err != nil || !q.Unlimited || p != 100000 {
		t.Errorf("cpu.max max: %+v %d %v", q, p, err)
	}
	q, p, err := ParseCPUMax([]byte("20000 100000\n"))
	if cpus, ok := (CPUQuota{q, p}).CPUs(); err != nil || !ok || cpus != 0.2 {
		t.Errorf("cpu.max 0.2: %v %v %v", cpus, ok, err)
	}
	if !(Max{Value: 5}).Less(Max{Unlimited: true}) || (Max{Unlimited: true}).Less(Max{Value: 5}) || !(Max{Value: 4}).Less(Max{Value: 5}) {
		t.Error("Max.Less")
	}
	common := []string{"", "-", "12 kB", "max max", "1e9", "18446744073709551616", " \n"}
	for _, c := range []struct {
		name  string
		parse func([]byte) error
		bad   []string
	}{
		{"max", func(b []byte) error { _, err := ParseCgroupMax(b); return err }, []string{"-1", "Max"}},
		{"v1 limit", func(b []byte) error { _, err := ParseV1MemoryLimit(b); return err }, []string{"-1", "max"}},
		{"v1 quota", func(b []byte) error { _, err := ParseV1CFSQuota(b); return err }, []string{"-2", "max"}},
		{"cpu.max", func(b []byte) error { _, _, err := ParseCPUMax(b); return err }, []string{"20000", "20000 0", "20000 -1", "-1 100000", "max 100000 1"}},
		{"uint", func(b []byte) error { _, err := ParseCgroupUint(b); return err }, []string{"-1", "max"}},
	} {
		for _, bad := range append(c.bad, common...) {
			if err := c.parse([]byte(bad)); !errors.Is(err, ErrMalformed) {
				t.Errorf("%s(%q) = %v, want ErrMalformed", c.name, bad, err)
			}
		}
	}
}

func TestParseFlatKeyedAndCPUStat(t *testing.T) {
	v1 := "nr_periods 19\nnr_throttled 16\nthrottled_time 1173976532\nnr_bursts 0\nburst_time 0\n"
	st, err := ParseCPUStat([]byte(v1), 1)
	if err != nil || st != (CPUStat{Periods: 19, Throttled: 16, ThrottledUS: 1173976}) {
		t.Errorf("v1: %+v %v", st, err)
	}
	v2 := "usage_usec 81234567\nuser_usec 70123456\nsystem_usec 11111111\ncore_sched.force_idle_usec 0\nnr_periods 4000\nnr_throttled 1200\nthrottled_usec 95000000\nnr_bursts 0\nburst_usec 0\n"
	st, err = ParseCPUStat([]byte(v2), 2)
	if err != nil || st != (CPUStat{Periods: 4000, Throttled: 1200, ThrottledUS: 95000000}) {
		t.Errorf("v2: %+v %v", st, err)
	}
	// The v2 root (or a cgroup without the cpu controller) has only the usage keys.
	if _, err := ParseCPUStat([]byte("usage_usec 1\nuser_usec 1\nsystem_usec 0\n"), 2); !errors.Is(err, ErrMalformed) {
		t.Errorf("no bandwidth keys: %v", err)
	}
	if _, err := ParseCPUStat([]byte(v1), 2); !errors.Is(err, ErrMalformed) {
		t.Errorf("v1 text as v2: %v", err)
	}
	for _, bad := range []string{"a", "a b c", "a -1", "a 1.5", "oom_kill"} {
		if _, err := ParseFlatKeyed([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseFlatKeyed(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestParsePSI(t *testing.T) {
	p, err := ParsePSI([]byte("some avg10=3.25 avg60=1.10 avg300=0.40 total=2345678\nfull avg10=2.00 avg60=0.90 avg300=0.30 total=1234567\n"))
	if err != nil || p.Some.Avg10 != 3.25 || p.Some.TotalUS != 2345678 || p.Full == nil || p.Full.Avg300 != 0.30 {
		t.Errorf("got %+v %v", p, err)
	}
	p, err = ParsePSI([]byte("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"))
	if err != nil || p.Full != nil {
		t.Errorf("some only: %+v %v", p, err)
	}
	for _, bad := range []string{"", "full avg10=0.00 avg60=0.00 avg300=0.00 total=0", "some avg10=x avg60=0.00 avg300=0.00 total=0",
		"some avg10=0.00 avg60=0.00 avg300=0.00", "some avg10=101.00 avg60=0.00 avg300=0.00 total=0", "some avg10=NaN avg60=0 avg300=0 total=0",
		"some avg10 avg60=0.00 avg300=0.00 total=0", "both avg10=0.00 avg60=0.00 avg300=0.00 total=0", "some avg10=0 avg60=0 avg300=0 total=-1",
		"some avg10=0 avg60=0 avg300=0 tot=1"} {
		if _, err := ParsePSI([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParsePSI(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestParseContainerIdentity(t *testing.T) {
	const id = "9b1c8f7e6d5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c"
	const uid = "0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011"
	const uidUnderscored = "0f1e2d3c_4b5a_6978_8a9b_acbdcedf0011"
	for _, c := range []struct {
		path string
		want ContainerIdentity
	}{
		{"/docker/" + id, ContainerIdentity{ID: id, Runtime: "docker"}},
		{"/system.slice/docker-" + id + ".scope", ContainerIdentity{ID: id, Runtime: "docker"}},
		{"/kubepods/burstable/pod" + uid + "/" + id, ContainerIdentity{ID: id, PodUID: uid}},
		{"/kubepods/pod" + uid + "/" + id, ContainerIdentity{ID: id, PodUID: uid}},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidUnderscored + ".slice/cri-containerd-" + id + ".scope", ContainerIdentity{ID: id, PodUID: uid, Runtime: "containerd"}},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uidUnderscored + ".slice/crio-" + id + ".scope", ContainerIdentity{ID: id, PodUID: uid, Runtime: "cri-o"}},
		{"/kubepods.slice/kubepods-pod" + uidUnderscored + ".slice/crio-" + id + ".scope/container", ContainerIdentity{ID: id, PodUID: uid, Runtime: "cri-o"}},
		{"/kubepods.slice/kubepods-pod" + uidUnderscored + ".slice", ContainerIdentity{PodUID: uid}},
		{"/machine.slice/libpod-" + id + ".scope", ContainerIdentity{ID: id, Runtime: "podman"}},
		// A static pod's uid is a 32-digit hash; crio-conmon is cri-o's monitor, not a container.
		{"/kubepods/besteffort/pod0123456789abcdef0123456789abcdef/crio-conmon-" + id + ".scope", ContainerIdentity{PodUID: "0123456789abcdef0123456789abcdef"}},
		// docker in docker: the innermost container.
		{"/docker/" + id + "/docker/" + strings.Repeat("a", 64), ContainerIdentity{ID: strings.Repeat("a", 64), Runtime: "docker"}},
		{"/../cri-containerd-" + id + ".scope", ContainerIdentity{ID: id, Runtime: "containerd"}},
		{"/", ContainerIdentity{}},
		{"/user.slice/user-1000.slice/session-3.scope", ContainerIdentity{}},
		{"/process_api/e41c2cf9695e25816cd47327f2220376", ContainerIdentity{}},
		{"/docker/" + strings.ToUpper(id), ContainerIdentity{}},
		{"/kubepods/podnot-a-uid/" + id[:63], ContainerIdentity{}},
		{"/kubepods/pod" + uid[:35] + "g", ContainerIdentity{}},
	} {
		if got := ParseContainerIdentity(c.path); got != c.want {
			t.Errorf("ParseContainerIdentity(%q) = %+v, want %+v", c.path, got, c.want)
		}
	}
}

// TestCgroupDirReadsV1Tree reads the fake v1 tree, whose files were copied from a memory,
// cpu and pids cgroup made on this machine with a Node.js process holding Buffers in it.
func TestCgroupDirReadsV1Tree(t *testing.T) {
	base := filepath.Join("..", "testdata", "cgroup", "v1-docker", "sys", "fs", "cgroup")
	const id = "3f2a9c1b0e7d5a4c8b6e2f1d0c9b8a7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a"
	mem := CgroupDir{Path: filepath.Join(base, "memory", "docker", id), Version: 1}
	lim, err := mem.MemoryLimit()
	if err != nil || lim.Unlimited || lim.Value != 209715200 {
		t.Errorf("limit %+v %v", lim, err)
	}
	m, errs := mem.Memory()
	if len(errs) > 0 || m.UsageBytes == nil || *m.UsageBytes != 186093568 || m.InactiveFileBytes == nil || *m.InactiveFileBytes != 4096 ||
		m.PeakBytes == nil || *m.PeakBytes != 186200064 || m.OOMKills == nil || *m.OOMKills != 0 || m.High != nil {
		t.Errorf("memory %+v %v", m, errs)
	}
	cpu := CgroupDir{Path: filepath.Join(base, "cpu", "docker", id), Version: 1}
	q, err := cpu.CPUQuota()
	if cpus, ok := q.CPUs(); err != nil || !ok || cpus != 0.2 {
		t.Errorf("quota %+v %v", q, err)
	}
	if st, err := cpu.CPUStat(); err != nil || st.Periods != 19 || st.Throttled != 16 || st.ThrottledUS != 1173976 {
		t.Errorf("cpu.stat %+v %v", st, err)
	}
	pids := CgroupDir{Path: filepath.Join(base, "pids", "docker", id), Version: 1}
	if mx, err := pids.PidsMax(); err != nil || mx.Value != 64 {
		t.Errorf("pids.max %+v %v", mx, err)
	}
	if _, err := pids.Pressure("memory"); !IsGone(err) {
		t.Errorf("v1 pressure: %v, want not-exist", err)
	}
}

func FuzzProcCgroup(f *testing.F) {
	f.Add([]byte(hostCgroup))
	f.Add([]byte(podCgroup))
	f.Add([]byte("0::/../x:y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParseProcCgroup(data)
		if err == nil && len(entries) == 0 {
			t.Fatal("no error and no entries")
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Path, "/") {
				t.Fatalf("path %q", e.Path)
			}
			ParseContainerIdentity(e.Path)
		}
	})
}

func FuzzCgroupMountinfo(f *testing.F) {
	f.Add([]byte(hostMountinfo))
	f.Add([]byte("1 2 0:1 /.. /a\\040b rw master:1 - cgroup2 cgroup rw\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		mounts, err := ParseCgroupMounts(data)
		if err != nil {
			return
		}
		for _, m := range mounts {
			if m.Version != 1 && m.Version != 2 {
				t.Fatalf("version %d", m.Version)
			}
			if dir, top, ok := m.Dir("/x", "/a/b"); ok && !strings.HasPrefix(dir, top) {
				t.Fatalf("dir %q outside top %q", dir, top)
			}
		}
	})
}

// FuzzCgroupV2Files feeds every v2 value parser (memory.max, memory.high, pids.max,
// cpu.max, memory.stat, memory.events, cpu.stat, the pressure files).
func FuzzCgroupV2Files(f *testing.F) {
	for _, s := range []string{"max\n", "536870912\n", "50000 100000\n", "max 100000\n", "low 0\nhigh 0\nmax 57\noom 3\noom_kill 2\noom_group_kill 0\n",
		"nr_periods 4000\nnr_throttled 1200\nthrottled_usec 95000000\n", "some avg10=3.25 avg60=1.10 avg300=0.40 total=2345678\nfull avg10=2.00 avg60=0.90 avg300=0.30 total=1234567\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ParseCgroupMax(data); err == nil && m.Unlimited && m.Value != 0 {
			t.Fatalf("unlimited with a value: %+v", m)
		}
		if q, p, err := ParseCPUMax(data); err == nil {
			if p == 0 {
				t.Fatal("period 0 accepted")
			}
			if cpus, ok := (CPUQuota{q, p}).CPUs(); ok && cpus < 0 {
				t.Fatalf("negative cpus %v", cpus)
			}
		}
		_, _ = ParseFlatKeyed(data)
		_, _ = ParseCPUStat(data, 2)
		if p, err := ParsePSI(data); err == nil && (p.Some.Avg10 < 0 || p.Some.Avg10 > 100) {
			t.Fatalf("avg10 %v", p.Some.Avg10)
		}
	})
}

// FuzzCgroupV1Files feeds the v1 value parsers (memory.limit_in_bytes, cpu.cfs_quota_us,
// cpu.stat with throttled_time in ns, memory.oom_control).
func FuzzCgroupV1Files(f *testing.F) {
	for _, s := range []string{"9223372036854771712\n", "209715200\n", "-1\n", "20000\n",
		"nr_periods 19\nnr_throttled 16\nthrottled_time 1173976532\nnr_bursts 0\nburst_time 0\n", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ParseV1MemoryLimit(data); err == nil && !m.Unlimited && m.Value >= v1Unlimited {
			t.Fatalf("limit %d not unlimited", m.Value)
		}
		if q, err := ParseV1CFSQuota(data); err == nil && q.Unlimited != (strings.TrimSpace(string(data)) == "-1") {
			t.Fatalf("quota %+v from %q", q, data)
		}
		if st, err := ParseCPUStat(data, 1); err == nil {
			if _, kerr := ParseFlatKeyed(data); kerr != nil {
				t.Fatalf("cpu.stat parsed but its keyed lines did not: %v", kerr)
			}
			_ = st
		}
	})
}
