package cmd

import "github.com/urfave/cli/v3"

// newTopCommand is the live view of every Node.js process.
func newTopCommand(deps Deps) *cli.Command {
	return &cli.Command{Name: "top", Usage: "live view of every Node.js process on the host, worst first"}
}
