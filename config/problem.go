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

// suggest returns the known key closest to an unknown one, or "" when none
// is close enough to be a likely typo.
func suggest(unknown string, known []string) string {
	norm := func(s string) string {
		s = strings.ToLower(s)
		return strings.NewReplacer("_", "", "-", "", " ", "").Replace(s)
	}
	best, bestDist := "", -1
	for _, k := range known {
		if norm(k) == norm(unknown) {
			return k
		}
		d := editDistance(unknown, k)
		limit := max(1, len(k)/3)
		if d <= limit && (bestDist < 0 || d < bestDist) {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of adjacent bytes each cost 1.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return 1 << 20
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
