package schema

import (
	"sort"
	"strings"
)

// Problem is one reason a configuration is refused, tied to the key it is about.
type Problem struct {
	Path string // e.g. "channels[1].chat"; empty for the file as a whole
	Msg  string

	// Line and Col place the problem in the file, for ordering; 0 when unknown.
	Line, Col int
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

// ChildPath joins a mapping key to its parent path.
func ChildPath(parent, key string) string {
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

// Positions is what decoding learnt about where each key path is written,
// and which paths already have their problem reported. The zero value and
// nil know nothing: problems keep the order they were found in.
type Positions struct {
	pos      map[string]position
	suppress []string
}

// Finish drops the validation problems that only repeat a problem already
// reported while decoding, gives every problem a position and sorts them in
// file order. It returns nil when nothing is left, else Problems.
func (m *Positions) Finish(decoded, validated []Problem) error {
	all := append([]Problem(nil), decoded...)
	for _, p := range validated {
		if m.suppressed(p.Path) {
			continue
		}
		if p.Line == 0 {
			pos := m.locate(p.Path)
			p.Line, p.Col = pos.line, pos.col
		}
		all = append(all, p)
	}
	if len(all) == 0 {
		return nil
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Line != all[j].Line {
			return all[i].Line < all[j].Line
		}
		return all[i].Col < all[j].Col
	})
	return Problems(all)
}

// Suppress marks the problems of path, and of all under it, as reported.
func (m *Positions) Suppress(path string) { m.suppress = append(m.suppress, path) }

func (m *Positions) suppressed(path string) bool {
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
func (m *Positions) locate(path string) position {
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

func (m *Positions) at(path string, line, col int) {
	if m.pos == nil {
		m.pos = map[string]position{}
	}
	if _, ok := m.pos[path]; !ok {
		m.pos[path] = position{line, col}
	}
}
