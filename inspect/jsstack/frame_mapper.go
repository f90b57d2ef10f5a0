package jsstack

import (
	"context"
	"encoding/json"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/probes"
)

// FrameMapper maps profile frames through the scripts' source maps, with the decoder and
// loader of `stack` (sourcemap.go, Sampler.mapFrame): one definition of "where a map is".
type FrameMapper struct {
	st      *Sampler
	scripts map[string]scriptInfo // by script id
}

// NewFrameMapper learns the source map URL of the scripts named by scriptIDs: enabling the
// Debugger domain replays Debugger.scriptParsed for every script, and it is disabled again
// at once (no breakpoint is set; nothing pauses). A mapper without any map maps nothing.
func NewFrameMapper(ctx context.Context, s debugTarget, fs probes.FS, proc *model.Process, pid int, scriptIDs map[string]bool) *FrameMapper {
	fm := &FrameMapper{
		st:      NewSampler(fs, proc, pid, 0, 0),
		scripts: map[string]scriptInfo{},
	}
	if len(scriptIDs) == 0 {
		return fm
	}
	s.Subscribe("Debugger.scriptParsed", func(ev attach.Event) {
		var p struct {
			ScriptID string `json:"scriptId"`
			scriptInfo
		}
		if json.Unmarshal(ev.Params, &p) == nil && scriptIDs[p.ScriptID] && p.SourceMapURL != "" {
			fm.scripts[p.ScriptID] = p.scriptInfo
		}
	})
	if err := s.Call(ctx, "Debugger.enable", nil, nil); err != nil {
		fm.st.Warnings = append(fm.st.Warnings, "source maps not read: "+err.Error())
		return fm
	}
	_ = s.Call(ctx, "Debugger.disable", nil, nil)
	return fm
}

// Map shows a file:// URL as its path (as `stack` does) and rewrites f to its original
// position when its script has a map (f's line and column are 1-based); f.Mapped says
// whether it did. A nil mapper only does the first.
func (fm *FrameMapper) Map(f *model.ProfileFrame, scriptID string) {
	f.URL = displayURL(f.URL)
	if fm == nil {
		return
	}
	info, ok := fm.scripts[scriptID]
	if !ok || f.Line < 1 {
		return
	}
	fr := model.Frame{Function: f.Function, URL: f.URL, Line: f.Line, Column: f.Column}
	fm.st.mapFrame(&fr, info.URL, info.SourceMapURL, f.Line-1, max(f.Column-1, 0))
	f.URL, f.Line, f.Column, f.Mapped = fr.URL, fr.Line, fr.Column, fr.Mapped
}

// Warnings are the maps that could not be read.
func (fm *FrameMapper) Warnings() []string {
	if fm == nil {
		return nil
	}
	return fm.st.Warnings
}
