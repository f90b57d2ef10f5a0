package inspectorsock

import (
	"reflect"
	"testing"
)

func TestInspectorPorts(t *testing.T) {
	cases := []struct {
		name        string
		cmdline     []string
		nodeOptions string
		want        []int
	}{
		{"plain", []string{"node", "server.js"}, "", []int{9229}},
		{"inspect bare", []string{"node", "--inspect", "server.js"}, "", []int{9229}},
		{"inspect port", []string{"node", "--inspect=9333", "server.js"}, "", []int{9333}},
		{"inspect host port", []string{"node", "--inspect=0.0.0.0:9444", "server.js"}, "", []int{9444}},
		{"inspect ipv6", []string{"node", "--inspect=[::]:9445", "server.js"}, "", []int{9445}},
		{"inspect host only", []string{"node", "--inspect=0.0.0.0", "server.js"}, "", []int{9229}},
		{"inspect-brk", []string{"node", "--inspect-brk=127.0.0.1:9555", "x.js"}, "", []int{9555}},
		{"inspect-port separate", []string{"node", "--inspect-port", "9666", "x.js"}, "", []int{9666}},
		{"random port", []string{"node", "--inspect=0", "x.js"}, "", []int{}},
		{"after script ignored", []string{"node", "app.js", "--inspect=9777"}, "", []int{9229}},
		{"after -e ignored", []string{"node", "-e", "1", "--inspect=9777"}, "", []int{9229}},
		{"require value skipped", []string{"node", "-r", "--inspect=1", "x.js"}, "", []int{9229}},
		{"node options", []string{"node", "x.js"}, "--max-old-space-size=512 --inspect=0.0.0.0:9888", []int{9888}},
		{"both", []string{"node", "--inspect=9001", "x.js"}, "--inspect-port=9002", []int{9002, 9001}},
		{"empty cmdline", nil, "", []int{9229}},
		{"garbage port", []string{"node", "--inspect=host:abc", "x.js"}, "", []int{9229}},
		{"out of range", []string{"node", "--inspect=70000", "x.js"}, "", []int{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Ports(c.cmdline, c.nodeOptions)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Ports(%q, %q) = %v, want %v", c.cmdline, c.nodeOptions, got, c.want)
			}
		})
	}
}

func FuzzInspectorPorts(f *testing.F) {
	f.Add("node\x00--inspect=0.0.0.0:9229\x00x.js", "--inspect-port 1")
	f.Add("node\x00--inspect-port", "--inspect=[")
	f.Fuzz(func(t *testing.T, cmd, opts string) {
		var args []string
		start := 0
		for i := 0; i < len(cmd); i++ {
			if cmd[i] == 0 {
				args = append(args, cmd[start:i])
				start = i + 1
			}
		}
		args = append(args, cmd[start:])
		for _, p := range Ports(args, opts) {
			if p <= 0 || p > 65535 {
				t.Fatalf("port %d out of range", p)
			}
		}
	})
}
