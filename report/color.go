package report

import "github.com/nodeinspect/nodeinspect/inspect/model"

// style is how a piece of text is emphasised. The human formats turn it into ANSI codes
// (only when Options.Color) and Markdown into bold; plain output ignores it.
type style uint8

// The styles, from none to the severities' colours.
const (
	styleNone     style = iota
	styleBold           // section names, the process's identity
	styleDim            // secondary details
	styleGood           // a calm "no findings"
	styleInfo           // cyan: severity info
	styleWarning        // yellow: severity warning
	styleCritical       // red: severity critical
)

// ANSI SGR sequences (ECMA-48): plain codes, no dependency, no terminfo lookup.
const (
	ansiReset    = "\x1b[0m"
	ansiBold     = "\x1b[1m"
	ansiDim      = "\x1b[2m"
	ansiGreen    = "\x1b[32m"
	ansiCyan     = "\x1b[36m"
	ansiBoldRed  = "\x1b[1;31m"
	ansiBoldYell = "\x1b[1;33m"
)

// paint wraps text in the ANSI codes of st when on; with on false it returns text as is, so
// Options.Color false can never leak an escape code.
func paint(on bool, st style, text string) string {
	if !on || text == "" {
		return text
	}
	var code string
	switch st {
	case styleBold:
		code = ansiBold
	case styleDim:
		code = ansiDim
	case styleGood:
		code = ansiGreen
	case styleInfo:
		code = ansiCyan
	case styleWarning:
		code = ansiBoldYell
	case styleCritical:
		code = ansiBoldRed
	default:
		return text
	}
	return code + text + ansiReset
}

// severityStyle is the colour of a severity: critical red, warning yellow, info cyan.
func severityStyle(s model.Severity) style {
	switch s {
	case model.SeverityCritical:
		return styleCritical
	case model.SeverityWarning:
		return styleWarning
	case model.SeverityInfo:
		return styleInfo
	}
	return styleNone
}
