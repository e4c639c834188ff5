package config

import (
	"sort"
	"strings"
)

// Problem is one reason a configuration is refused, tied to the key it is about.
type Problem struct {
	Path string // e.g. "channels[1].chat"; empty for the file as a whole
	Msg  string

	line, col int // position in the file, for ordering; 0 when unknown
}

func (p Problem) Error() string {
	if p.Path == "" {
		return p.Msg
	}
	return p.Path + ": " + p.Msg
}

// Problems lists every problem found in a configuration, in file order.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// childPath joins a mapping key to its parent path.
func childPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// parentPath strips the last ".key" or "[i]" from a path; "" at the top.
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// within reports whether path is base or lies under it.
func within(path, base string) bool {
	if !strings.HasPrefix(path, base) {
		return false
	}
	rest := path[len(base):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

type position struct{ line, col int }

// finish drops the validation problems that only repeat a problem already
// reported while decoding, gives every problem a position and sorts them in
// file order. It returns nil when nothing is left.
func (m *meta) finish(decoded, validated []Problem) error {
	all := append([]Problem(nil), decoded...)
	for _, p := range validated {
		if m.suppressed(p.Path) {
			continue
		}
		if p.line == 0 {
			pos := m.locate(p.Path)
			p.line, p.col = pos.line, pos.col
		}
		all = append(all, p)
	}
	if len(all) == 0 {
		return nil
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].line != all[j].line {
			return all[i].line < all[j].line
		}
		return all[i].col < all[j].col
	})
	return Problems(all)
}

func (m *meta) suppressed(path string) bool {
	if m == nil {
		return false
	}
	for _, base := range m.suppress {
		if within(path, base) {
			return true
		}
	}
	return false
}

// locate finds the position of path, or of its nearest ancestor that has one.
func (m *meta) locate(path string) position {
	if m == nil {
		return position{}
	}
	for {
		if pos, ok := m.pos[path]; ok {
			return pos
		}
		if path == "" {
			return position{}
		}
		path = parentPath(path)
	}
}
