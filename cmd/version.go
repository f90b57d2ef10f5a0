package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/urfave/cli/v3"
)

// Version is set at build time with -ldflags "-X github.com/nodeinspect/nodeinspect/cmd.Version=v1.2.3";
// otherwise it comes from the module's build information.
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// newVersionCommand prints the version.
func newVersionCommand(deps Deps) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON"}},
		Action: func(ctx context.Context, c *cli.Command) error {
			return runVersion(deps, c.Bool("json"))
		},
	}
}

// runVersion prints the version, as one line or (asJSON) as a JSON document.
func runVersion(deps Deps, asJSON bool) error {
	if asJSON {
		b, err := json.MarshalIndent(map[string]string{
			"schema": model.Schema, "version": version(), "go": runtime.Version(),
			"os": runtime.GOOS, "arch": runtime.GOARCH,
		}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(deps.Out, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintf(deps.Out, "nodeinspect %s (%s, %s/%s)\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
