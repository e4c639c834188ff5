package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

const (
	// MaxVisits caps the nodes walked, so that aliases referring to big
	// anchors many times over cannot make decoding run for ever.
	MaxVisits = 200_000
	// maxSecretFile caps a *_file secret; real tokens are far smaller.
	maxSecretFile = 64 << 10
)

// ParseYAML parses data as exactly one YAML document. An empty document
// gives a nil root.
func ParseYAML(data []byte) (root *yaml.Node, probs Problems) {
	defer func() {
		if r := recover(); r != nil {
			root, probs = nil, Problems{{Msg: fmt.Sprintf("invalid YAML: %v", r)}}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, Problems{yamlProblem(data, err)}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, Problems{yamlProblem(data, err)}
	default:
		return nil, Problems{{Msg: fmt.Sprintf("line %d: a second YAML document; the file must hold exactly one", next.Line), Line: next.Line}}
	}
	return &doc, nil
}

// yamlProblem turns "yaml: line 3: could not find expected ':'" into a
// problem placed on line 3.
func yamlProblem(data []byte, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			line, _ = strconv.Atoi(rest[:i])
			msg = strings.TrimSpace(rest[i+1:])
		}
	}
	if l := problemLine(data, msg, line); l > 0 {
		line = l
	}
	if line == 0 {
		return Problem{Msg: "invalid YAML: " + msg}
	}
	return Problem{Msg: fmt.Sprintf("invalid YAML: line %d: %s", line, msg), Line: line}
}

// problemLine finds the line where the syntax error msg happens. yaml.v3
// names the line where the enclosing block starts (from), often far above
// the mistake; the first prefix of the file that fails with the same
// message ends on the line at fault.
func problemLine(data []byte, msg string, from int) int {
	if len(data) > 256<<10 {
		return 0
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 2000 {
		return 0
	}
	end := 0
	for k, l := range lines {
		end += len(l)
		if k+1 < from {
			continue
		}
		dec := yaml.NewDecoder(bytes.NewReader(data[:end]))
		var n yaml.Node
		err := dec.Decode(&n)
		for err == nil {
			err = dec.Decode(&n)
		}
		if errors.Is(err, io.EOF) {
			continue
		}
		if strings.HasSuffix(err.Error(), ": "+msg) || err.Error() == "yaml: "+msg {
			return k + 1
		}
	}
	return 0
}

// Decoder walks a YAML tree by hand, which is what lets every problem name
// its key path and lets decoding go on after a problem. Its methods read
// one key of an Object into a Go value, leaving the value as it was (the
// default) when the key is absent or null.
type Decoder struct {
	// LookupEnv resolves ${VAR} in secret fields; nil: no variable is set.
	LookupEnv func(string) (string, bool)
	// MissingSecretsOK turns an unset ${VAR} or an unreadable *_file into a
	// warning, the secret staying empty.
	MissingSecretsOK bool

	positions Positions
	probs     []Problem
	warnings  []string
	visits    int
	exhausted bool
}

// Problems returns the problems found so far, in the order found.
func (d *Decoder) Problems() []Problem { return d.probs }

// Warnings returns the notes that do not refuse the configuration.
func (d *Decoder) Warnings() []string { return d.warnings }

// Exhausted reports whether the visit budget (MaxVisits) ran out: the
// document is an alias bomb, and nothing it says can be trusted.
func (d *Decoder) Exhausted() bool { return d.exhausted }

// Positions returns where each key was written, for Positions.Finish.
func (d *Decoder) Positions() *Positions { return &d.positions }

// Finish merges the problems found while decoding with those of
// validation (see Positions.Finish); a validation problem under a path
// that already has a decoding problem is dropped as a repetition.
func (d *Decoder) Finish(validated []Problem) error {
	for _, p := range d.probs {
		d.positions.Suppress(p.Path)
	}
	return d.positions.Finish(d.probs, validated)
}

// Object is a decoded YAML mapping.
type Object struct {
	path  string
	keys  []keyAt               // in file order
	vals  map[string]*yaml.Node // key → value
	asked []string              // keys the decoder looked up: all others are unknown
}

type keyAt struct {
	name string
	node *yaml.Node // where to point at: the key, or the "<<" that merged it in
}

// Path is the object's key path, such as "channels[0]".
func (o *Object) Path() string { return o.path }

// Keys lists the object's keys in file order.
func (o *Object) Keys() []string {
	out := make([]string, len(o.keys))
	for i, k := range o.keys {
		out[i] = k.name
	}
	return out
}

// Allow marks keys as known without reading them.
func (o *Object) Allow(keys ...string) { o.asked = append(o.asked, keys...) }

// Asked lists the keys looked up so far, known or not.
func (o *Object) Asked() []string { return o.asked }

// Fail records a problem at path, placed at n (or where path was written).
func (d *Decoder) Fail(path string, n *yaml.Node, format string, args ...any) {
	p := Problem{Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	} else {
		pos := d.positions.locate(path)
		p.Line, p.Col = pos.line, pos.col
	}
	d.probs = append(d.probs, p)
}

// Warn records a note about path that does not refuse the configuration.
func (d *Decoder) Warn(path, format string, args ...any) {
	d.warnings = append(d.warnings, path+": "+fmt.Sprintf(format, args...))
}

// Suppress marks the problems validation finds at or under path as
// already reported.
func (d *Decoder) Suppress(path string) { d.positions.Suppress(path) }

func (d *Decoder) at(path string, n *yaml.Node) {
	if n != nil {
		d.positions.at(path, n.Line, n.Column)
	}
}

// Resolve follows aliases and documents to the node they stand for. It
// returns nil once the visit budget is spent.
func (d *Decoder) Resolve(n *yaml.Node) *yaml.Node {
	for hops := 0; n != nil && (n.Kind == yaml.AliasNode || n.Kind == yaml.DocumentNode); hops++ {
		switch {
		case hops > 100:
			return nil
		case n.Kind == yaml.AliasNode:
			n = n.Alias
		case len(n.Content) == 0:
			return nil
		default:
			n = n.Content[0]
		}
	}
	d.visits++
	if d.visits > MaxVisits {
		d.exhausted = true
		return nil
	}
	return n
}

// IsNull reports whether n is YAML's null (~, null or nothing).
func IsNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// Describe names what was found instead of the expected type. Secret fields
// use describeKind, which never shows the value.
func Describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && !IsNull(n) {
		v := n.Value
		if len(v) > 80 {
			v = strings.ToValidUTF8(v[:80], "") + "…"
		}
		return strconv.Quote(v)
	}
	return describeKind(n)
}

func describeKind(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case IsNull(n):
		return "nothing"
	default:
		return "a scalar"
	}
}

// Object reads a mapping node; n must already be resolved. It reports
// duplicate keys and applies "<<" merge keys, explicit keys winning. It
// returns nil when n is absent, null or not a mapping.
func (d *Decoder) Object(path string, n *yaml.Node) *Object {
	if n == nil || IsNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.Fail(path, n, "must be a mapping (got %s)", Describe(n))
		return nil
	}
	o := &Object{path: path, vals: map[string]*yaml.Node{}}
	d.collect(o, n, nil, 0)
	return o
}

func (d *Decoder) collect(o *Object, n *yaml.Node, mergedAt *yaml.Node, depth int) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.Resolve(n.Content[i])
		if k == nil {
			return
		}
		where := k
		if mergedAt != nil {
			where = mergedAt
		}
		if k.Kind != yaml.ScalarNode {
			d.Fail(o.path, where, "keys must be plain strings (got %s)", describeKind(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, k, n.Content[i+1])
			continue
		}
		path := ChildPath(o.path, k.Value)
		if _, dup := o.vals[k.Value]; dup {
			if mergedAt == nil {
				prev := d.positions.pos[path]
				d.Fail(path, k, "duplicate key (also line %d)", prev.line)
			}
			continue
		}
		o.keys = append(o.keys, keyAt{k.Value, where})
		o.vals[k.Value] = n.Content[i+1]
		d.at(path, where)
	}
	for i := 0; i < len(merges); i += 2 {
		key, v := merges[i], d.Resolve(merges[i+1])
		if mergedAt != nil {
			key = mergedAt
		}
		if v == nil {
			return
		}
		if depth > 10 {
			d.Fail(o.path, key, "merge keys (<<) nested too deeply")
			return
		}
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = v.Content
		}
		for _, src := range sources {
			if src = d.Resolve(src); src == nil {
				return
			}
			if src.Kind != yaml.MappingNode {
				d.Fail(ChildPath(o.path, "<<"), key, "must be a mapping or a list of mappings (got %s)", Describe(src))
				continue
			}
			d.collect(o, src, key, depth+1)
		}
	}
}

// Get looks key up, records that the key is known, and returns its resolved
// value (nil when absent or null) and its path.
func (d *Decoder) Get(o *Object, key string) (*yaml.Node, string) {
	o.asked = append(o.asked, key)
	path := ChildPath(o.path, key)
	v, ok := o.vals[key]
	if !ok {
		return nil, path
	}
	v = d.Resolve(v)
	if v == nil || IsNull(v) {
		return nil, path
	}
	return v, path
}

// Sub reads key as a nested mapping; nil when absent.
func (d *Decoder) Sub(o *Object, key string) *Object {
	n, path := d.Get(o, key)
	return d.Object(path, n)
}

// UnknownKeys reports every key of o that the decoder never looked up,
// with a "did you mean" when one is close. misplaced may explain a key
// that is valid elsewhere; it returns "" for the usual message.
func (d *Decoder) UnknownKeys(o *Object, misplaced func(key string) string) {
	for _, k := range o.keys {
		if slices.Contains(o.asked, k.name) {
			continue
		}
		msg := ""
		if misplaced != nil {
			msg = misplaced(k.name)
		}
		if msg == "" {
			msg = "unknown key"
			if s := Suggest(k.name, o.asked); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
		}
		d.Fail(ChildPath(o.path, k.name), k.node, "%s", msg)
	}
}

// Str reads a string.
func (d *Decoder) Str(o *Object, key string, dst *string) {
	n, path := d.Get(o, key)
	if n == nil {
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.Fail(path, n, "must be a string (got %s)", Describe(n))
		return
	}
	*dst = n.Value
	if name, ok := EnvReference(n.Value); ok {
		d.Warn(path, "${%s} is expanded only in secret fields; this value is taken as written", name)
	}
}

// BaseURL reads a URL that paths are appended to, without its trailing slashes.
func (d *Decoder) BaseURL(o *Object, key string, dst *string) {
	d.Str(o, key, dst)
	if u := strings.TrimRight(*dst, "/"); strings.Contains(u, "://") {
		*dst = u
	}
}

func (d *Decoder) integer(o *Object, key string) (int64, bool) {
	n, path := d.Get(o, key)
	if n == nil {
		return 0, false
	}
	if n.Kind == yaml.ScalarNode {
		if v, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			return v, true
		}
		var v int64
		if n.ShortTag() == "!!int" && n.Decode(&v) == nil {
			return v, true
		}
	}
	d.Fail(path, n, "must be an integer (got %s)", Describe(n))
	return 0, false
}

// Int reads an integer.
func (d *Decoder) Int(o *Object, key string, dst *int) {
	if v, ok := d.integer(o, key); ok {
		*dst = int(v)
	}
}

// Int64 reads an integer.
func (d *Decoder) Int64(o *Object, key string, dst *int64) {
	if v, ok := d.integer(o, key); ok {
		*dst = v
	}
}

// Bool reads true or false.
func (d *Decoder) Bool(o *Object, key string, dst *bool) {
	n, path := d.Get(o, key)
	if n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode {
		switch {
		case n.Value == "true" || n.Value == "false":
			*dst = n.Value == "true"
			return
		case n.ShortTag() == "!!bool" && n.Decode(dst) == nil:
			return
		}
	}
	d.Fail(path, n, "must be true or false (got %s)", Describe(n))
}

// Duration reads a duration written "30s" or "1h30m".
func (d *Decoder) Duration(o *Object, key string, dst *Duration) {
	n, path := d.Get(o, key)
	if n == nil {
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.Fail(path, n, "must be a duration like \"30s\" or \"1h30m\" (got %s)", Describe(n))
		return
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		d.Fail(path, n, "%v", err)
		return
	}
	*dst = v
}

// StrList reads a list of strings. A bad item leaves "" in its place, so
// that later paths keep the item's index.
func (d *Decoder) StrList(o *Object, key string, dst *[]string) {
	n, path := d.Get(o, key)
	if n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.Fail(path, n, "must be a list (got %s)", Describe(n))
		return
	}
	out := make([]string, 0, len(n.Content))
	for i, raw := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		d.at(ip, raw)
		item := d.Resolve(raw)
		switch {
		case item == nil:
		case item.Kind != yaml.ScalarNode || IsNull(item):
			d.Fail(ip, raw, "must be a string (got %s)", Describe(item))
		default:
			out = append(out, item.Value)
			continue
		}
		out = append(out, "")
	}
	*dst = out
}

// StrMap reads a mapping of strings to strings (category → hashtag, say).
// A null value reads as "".
func (d *Decoder) StrMap(o *Object, key string, dst *map[string]string) {
	sub := d.Sub(o, key)
	if sub == nil {
		return
	}
	out := map[string]string{}
	for _, k := range sub.keys {
		var v string
		d.Str(sub, k.name, &v)
		out[k.name] = v
	}
	*dst = out
}

// List calls each for every item of a list (of mappings, usually), with
// the item's path and resolved node.
func (d *Decoder) List(o *Object, key string, each func(path string, n *yaml.Node)) {
	n, path := d.Get(o, key)
	if n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.Fail(path, n, "must be a list (got %s)", Describe(n))
		return
	}
	for i, raw := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		d.at(ip, raw)
		item := d.Resolve(raw)
		if item != nil && IsNull(item) {
			d.Fail(ip, raw, "empty entry")
		}
		each(ip, item)
	}
}

// Secret reads key inline (a literal or exactly "${VAR}") or from the file
// named by key_file. Messages name the key, the variable or the file, never
// the value.
func (d *Decoder) Secret(o *Object, key string, dst *Secret) {
	inline, path := d.Get(o, key)
	file, filePath := d.Get(o, key+"_file")
	if inline != nil || file != nil {
		// Any problem with the secret is reported here: "required" would repeat it.
		defer func(n int) {
			if len(d.probs) > n {
				d.Suppress(path)
			}
		}(len(d.probs))
	}
	switch {
	case inline != nil && file != nil:
		d.Fail(path, inline, "give %s or %s_file, not both", key, key)
	case inline != nil:
		if inline.Kind != yaml.ScalarNode {
			d.Fail(path, inline, "must be a string (got %s)", describeKind(inline))
			return
		}
		v := inline.Value
		if name, ok := EnvReference(v); ok {
			val, set := "", false
			if d.LookupEnv != nil {
				val, set = d.LookupEnv(name)
			}
			if !set {
				d.missing(path, inline, path, "environment variable %s is not set", name)
				return
			}
			if val == "" {
				d.Warn(path, "environment variable %s is empty", name)
			}
			v = val
			if HasControl(v) {
				d.Fail(path, inline, "environment variable %s holds a line break or another control character", name)
				return
			}
		} else if strings.HasPrefix(v, "${") {
			d.Fail(path, inline, "to read an environment variable, write exactly ${NAME} (letters, digits and _)")
			return
		} else if HasControl(v) {
			d.Fail(path, inline, "must not hold a line break or another control character")
			return
		}
		*dst = Secret(v)
	case file != nil:
		if file.Kind != yaml.ScalarNode || file.Value == "" {
			d.Fail(filePath, file, "must be a file path (got %s)", Describe(file))
			return
		}
		b, err := readSecretFile(file.Value)
		if err != nil {
			d.missing(filePath, file, path, "cannot read %q: %v", file.Value, err)
			return
		}
		if len(b) == 0 {
			d.Warn(filePath, "file %q is empty", file.Value)
		}
		if HasControl(string(b)) {
			d.Fail(filePath, file, "file %q holds a line break or another control character (beyond one trailing newline)", file.Value)
			return
		}
		*dst = Secret(b)
	}
}

// missing reports a secret that cannot be resolved: a problem, or under
// MissingSecretsOK a warning, the secret staying empty.
func (d *Decoder) missing(path string, n *yaml.Node, secretPath, format string, args ...any) {
	d.Suppress(secretPath)
	if d.MissingSecretsOK {
		d.Warn(path, format+"; left empty", args...)
		return
	}
	d.Fail(path, n, format, args...)
}

func readSecretFile(name string) ([]byte, error) {
	// Stat first: opening a FIFO would block, reading /dev/zero never ends.
	fi, err := os.Stat(name)
	if err != nil {
		return nil, pathErr(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, pathErr(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, pathErr(err)
	}
	if len(b) > maxSecretFile {
		return nil, fmt.Errorf("larger than %d KiB", maxSecretFile>>10)
	}
	return TrimNewline(b), nil
}

// pathErr drops the file name from an *fs.PathError: messages name it already.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// DecodeString reads yml, one mapping of keys, with decode, reports its
// keys that decode did not read, and validates the result: the whole path
// of a part of the configuration, for the tests of the package that owns it.
func DecodeString[S interface{ Validate(*Checker) }](yml string, decode func(*Decoder, *Object) S) (S, error) {
	var zero S
	root, probs := ParseYAML([]byte(yml))
	if probs != nil {
		return zero, probs
	}
	d := &Decoder{}
	o := d.Object("", d.Resolve(root))
	if o == nil {
		o = d.Object("", &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"})
	}
	s := decode(d, o)
	d.UnknownKeys(o, nil)
	v := NewChecker()
	s.Validate(v)
	return s, d.Finish(v.Problems())
}
