package cmd

import (
	"slices"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// The value checks of the common flags that take a word or a path (--format, --fail-on,
// --proc), run by the CLI library as the flag is parsed, like the range checks of
// flagset.go: a bad value is a usage error (exit 2, one line naming the flag) before any
// file or process is read.

// formats are the values of --format ("" leaves the choice to the terminal).
var formats = []string{"table", "plain", "json", "markdown"}

// formatValue is the Validator of --format: one of formats, in any case.
func formatValue(v string) error {
	if v != "" && !slices.Contains(formats, strings.ToLower(v)) {
		return usageError("--format %q is not one of table, plain, json, markdown", v)
	}
	return nil
}

// failOnValue is the Validator of --fail-on: a severity or never, in any case.
func failOnValue(v string) error {
	switch strings.ToLower(v) {
	case "never", "info", "warning", "critical":
		return nil
	}
	return usageError("--fail-on %q is not one of info, warning, critical, never", v)
}

// failOnSeverity is the severity a --fail-on value (checked by failOnValue) fails the run
// at: "" for never.
func failOnSeverity(v string) model.Severity {
	if v = strings.ToLower(v); v == "never" {
		return ""
	}
	return model.Severity(v)
}

// procValue is the Validator of --proc: a directory a proc filesystem could be mounted on
// (checkProcRoot); "" keeps the default.
func procValue(v string) error {
	if v == "" {
		return nil
	}
	return checkProcRoot(v)
}
