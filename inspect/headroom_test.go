package inspect

import (
	"reflect"
	"testing"
)

func TestParseMemoryCgroups(t *testing.T) {
	cases := []struct {
		name, text string
		want       []MemoryCgroup
	}{
		{"v1 host", "9:name=systemd:/\n4:memory:/process_api/b1\n3:cpuset:/\n0::/\n", []MemoryCgroup{{1, "/process_api/b1"}, {2, "/"}}},
		{"v1 combined controllers", "5:memory,hugetlb:/a\n", []MemoryCgroup{{1, "/a"}}},
		{"v2 only", "0::/kubepods/pod1/c2\n", []MemoryCgroup{{2, "/kubepods/pod1/c2"}}},
		{"malformed", "garbage\n4:memory\n4:memory:relative\n4:memory:/x/../y\n:::\n", nil},
		{"empty", "", nil},
	}
	for _, c := range cases {
		if got := ParseMemoryCgroups(c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestHeadroomFits(t *testing.T) {
	if !(Headroom{HeapUsedBytes: 10, AvailableBytes: 10}).Fits() || (Headroom{HeapUsedBytes: 11, AvailableBytes: 10}).Fits() {
		t.Error("Fits is not heap used <= available")
	}
}

func FuzzParseMemoryCgroups(f *testing.F) {
	f.Add("4:memory:/a\n0::/b\n")
	f.Fuzz(func(t *testing.T, text string) {
		for _, cg := range ParseMemoryCgroups(text) {
			if cg.Path == "" || cg.Path[0] != '/' || (cg.Version != 1 && cg.Version != 2) {
				t.Fatalf("bad cgroup %+v", cg)
			}
		}
	})
}
