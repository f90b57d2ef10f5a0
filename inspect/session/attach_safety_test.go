package session

import (
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/inspectorsock"
	"github.com/nodeinspect/nodeinspect/inspect/target"
)

func TestLauncherName(t *testing.T) {
	for _, c := range []struct {
		cmd  []string
		want string
	}{
		{[]string{"node", "/usr/share/nodejs/npm/bin/npm-cli.js", "start"}, "npm"},
		{[]string{"npm start"}, "npm"},
		{[]string{"npm exec foo"}, "npm"},
		{[]string{"/usr/bin/node", "/usr/lib/node_modules/npm/bin/npx-cli.js", "x"}, "npx"},
		{[]string{"node", "--max-old-space-size=100", "/opt/yarn/bin/yarn.js", "start"}, "yarn"},
		{[]string{"node", "/usr/local/lib/node_modules/pnpm/bin/pnpm.cjs", "start"}, "pnpm"},
		{[]string{"node", "server.js"}, ""},
		{[]string{"node", "npm-cli-clone/server.js"}, ""},
		{[]string{"node"}, ""},
		{[]string{}, ""},
		{[]string{""}, ""},
		{[]string{"node", "--", "npm"}, "npm"},
	} {
		if got := target.LauncherName(c.cmd); got != c.want {
			t.Errorf("launcherName(%q) = %q, want %q", c.cmd, got, c.want)
		}
	}
}

func FuzzLauncherName(f *testing.F) {
	f.Add("node\x00/x/npm-cli.js\x00start")
	f.Fuzz(func(t *testing.T, s string) { _ = target.LauncherName(strings.Split(s, "\x00")) })
}

func TestBlocksInspector(t *testing.T) {
	for _, c := range []struct {
		local string
		want  bool
	}{
		{"127.0.0.1:9229", true},
		{"0.0.0.0:9229", true},
		{"[::]:9229", true},
		{"[::1]:9229", false},
		{"10.0.0.5:9229", false},
		{"garbage", true},
	} {
		if got := blocksInspector(c.local); got != c.want {
			t.Errorf("blocksInspector(%q) = %v, want %v", c.local, got, c.want)
		}
	}
}

func TestInspectorPortsPortZero(t *testing.T) {
	for _, c := range [][]string{
		{"node", "--inspect=127.0.0.1:0", "app.js"},
		{"node", "--inspect-port=0", "app.js"},
		{"node", "--inspect-port", "0", "app.js"},
	} {
		if got := inspectorsock.Ports(c, ""); len(got) != 0 {
			t.Errorf("Ports(%q) = %v, want none (a random port cannot be named)", c, got)
		}
	}
}
