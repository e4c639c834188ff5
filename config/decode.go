package config

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
	"time"

	"gopkg.in/yaml.v3"

	"github.com/syndicate-daemon/syndicate/schema"
)

const (
	// maxVisits caps the nodes walked, so that aliases referring to big
	// anchors many times over cannot make decoding run for ever.
	maxVisits = 200_000
	// maxSecretFile caps a *_file secret; real tokens are far smaller.
	maxSecretFile = 64 << 10
)

// parseYAML parses data as exactly one YAML document. An empty document
// gives a nil root.
func parseYAML(data []byte) (root *yaml.Node, probs Problems) {
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
		return nil, Problems{{Msg: fmt.Sprintf("line %d: a second YAML document; the file must hold exactly one", next.Line), line: next.Line}}
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
	return Problem{Msg: fmt.Sprintf("invalid YAML: line %d: %s", line, msg), line: line}
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

// decoder walks the YAML tree by hand, which is what lets every problem name
// its key path and lets decoding go on after a problem.
type decoder struct {
	opt       Options
	meta      *meta
	probs     []Problem
	warnings  []string
	visits    int
	exhausted bool // the visit budget is spent
	stop      bool // the root is not a mapping: nothing else is worth checking
}

// object is a decoded YAML mapping.
type object struct {
	path  string
	keys  []keyAt               // in file order
	vals  map[string]*yaml.Node // key → value
	asked []string              // keys the decoder looked up: all others are unknown
}

type keyAt struct {
	name string
	node *yaml.Node // where to point at: the key, or the "<<" that merged it in
}

func (d *decoder) fail(path string, n *yaml.Node, format string, args ...any) {
	p := Problem{Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.line, p.col = n.Line, n.Column
	} else {
		pos := d.meta.locate(path)
		p.line, p.col = pos.line, pos.col
	}
	d.probs = append(d.probs, p)
}

func (d *decoder) warn(path, format string, args ...any) {
	d.warnings = append(d.warnings, path+": "+fmt.Sprintf(format, args...))
}

func (d *decoder) at(path string, n *yaml.Node) {
	if _, ok := d.meta.pos[path]; !ok && n != nil {
		d.meta.pos[path] = position{n.Line, n.Column}
	}
}

// resolve follows aliases and documents to the node they stand for. It
// returns nil once the visit budget is spent.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
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
	if d.visits > maxVisits {
		d.exhausted = true
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what was found instead of the expected type. Secret fields
// use describeKind, which never shows the value.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
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
	case isNull(n):
		return "nothing"
	default:
		return "a scalar"
	}
}

// object reads a mapping node; n must already be resolved. It reports
// duplicate keys and applies "<<" merge keys, explicit keys winning.
func (d *decoder) object(path string, n *yaml.Node) *object {
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "must be a mapping (got %s)", describe(n))
		return nil
	}
	o := &object{path: path, vals: map[string]*yaml.Node{}}
	d.collect(o, n, nil, 0)
	return o
}

func (d *decoder) collect(o *object, n *yaml.Node, mergedAt *yaml.Node, depth int) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.resolve(n.Content[i])
		if k == nil {
			return
		}
		where := k
		if mergedAt != nil {
			where = mergedAt
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(o.path, where, "keys must be plain strings (got %s)", describeKind(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, k, n.Content[i+1])
			continue
		}
		path := childPath(o.path, k.Value)
		if _, dup := o.vals[k.Value]; dup {
			if mergedAt == nil {
				prev := d.meta.pos[path]
				d.fail(path, k, "duplicate key (also line %d)", prev.line)
			}
			continue
		}
		o.keys = append(o.keys, keyAt{k.Value, where})
		o.vals[k.Value] = n.Content[i+1]
		d.at(path, where)
	}
	for i := 0; i < len(merges); i += 2 {
		key, v := merges[i], d.resolve(merges[i+1])
		if mergedAt != nil {
			key = mergedAt
		}
		if v == nil {
			return
		}
		if depth > 10 {
			d.fail(o.path, key, "merge keys (<<) nested too deeply")
			return
		}
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = v.Content
		}
		for _, src := range sources {
			if src = d.resolve(src); src == nil {
				return
			}
			if src.Kind != yaml.MappingNode {
				d.fail(childPath(o.path, "<<"), key, "must be a mapping or a list of mappings (got %s)", describe(src))
				continue
			}
			d.collect(o, src, key, depth+1)
		}
	}
}

// get looks key up, records that the key is known, and returns its resolved
// value, nil when absent or null.
func (d *decoder) get(o *object, key string) (*yaml.Node, string) {
	o.asked = append(o.asked, key)
	path := childPath(o.path, key)
	v, ok := o.vals[key]
	if !ok {
		return nil, path
	}
	v = d.resolve(v)
	if v == nil || isNull(v) {
		return nil, path
	}
	return v, path
}

func (d *decoder) sub(o *object, key string) *object {
	n, path := d.get(o, key)
	return d.object(path, n)
}

// unknownKeys reports every key of o that the decoder never looked up.
// misplaced may explain a key that is valid elsewhere.
func (d *decoder) unknownKeys(o *object, misplaced func(key string) string) {
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
			if s := schema.Suggest(k.name, o.asked); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
		}
		d.fail(childPath(o.path, k.name), k.node, "%s", msg)
	}
}

func (d *decoder) str(o *object, key string, dst *string) {
	n, path := d.get(o, key)
	if n == nil {
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(path, n, "must be a string (got %s)", describe(n))
		return
	}
	*dst = n.Value
	if name, ok := envReference(n.Value); ok {
		d.warn(path, "${%s} is expanded only in secret fields; this value is taken as written", name)
	}
}

// baseURL reads a URL that paths are appended to, without its trailing slashes.
func (d *decoder) baseURL(o *object, key string, dst *string) {
	d.str(o, key, dst)
	if u := strings.TrimRight(*dst, "/"); strings.Contains(u, "://") {
		*dst = u
	}
}

func (d *decoder) integer(o *object, key string) (int64, bool) {
	n, path := d.get(o, key)
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
	d.fail(path, n, "must be an integer (got %s)", describe(n))
	return 0, false
}

func (d *decoder) int(o *object, key string, dst *int) {
	if v, ok := d.integer(o, key); ok {
		*dst = int(v)
	}
}

func (d *decoder) int64(o *object, key string, dst *int64) {
	if v, ok := d.integer(o, key); ok {
		*dst = v
	}
}

func (d *decoder) bool(o *object, key string, dst *bool) {
	n, path := d.get(o, key)
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
	d.fail(path, n, "must be true or false (got %s)", describe(n))
}

func (d *decoder) duration(o *object, key string, dst *Duration) {
	n, path := d.get(o, key)
	if n == nil {
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(path, n, "must be a duration like \"30s\" or \"1h30m\" (got %s)", describe(n))
		return
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		d.fail(path, n, "%v", err)
		return
	}
	*dst = v
}

// strList reads a list of strings. A bad item leaves "" in its place, so
// that later paths keep the item's index.
func (d *decoder) strList(o *object, key string, dst *[]string) {
	n, path := d.get(o, key)
	if n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(path, n, "must be a list (got %s)", describe(n))
		return
	}
	out := make([]string, 0, len(n.Content))
	for i, raw := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		d.at(ip, raw)
		item := d.resolve(raw)
		switch {
		case item == nil:
		case item.Kind != yaml.ScalarNode || isNull(item):
			d.fail(ip, raw, "must be a string (got %s)", describe(item))
		default:
			out = append(out, item.Value)
			continue
		}
		out = append(out, "")
	}
	*dst = out
}

// strMap reads a mapping of strings to strings (category → hashtag, say),
// keeping the keys in file order in *order when order is not nil. A null
// value reads as "".
func (d *decoder) strMap(o *object, key string, dst *map[string]string, order *[]string) {
	sub := d.sub(o, key)
	if sub == nil {
		return
	}
	out := map[string]string{}
	for _, k := range sub.keys {
		var v string
		d.str(sub, k.name, &v)
		out[k.name] = v
		if order != nil {
			*order = append(*order, k.name)
		}
	}
	*dst = out
}

// list calls each for every item of a list of mappings.
func (d *decoder) list(o *object, key string, each func(path string, n *yaml.Node)) {
	n, path := d.get(o, key)
	if n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(path, n, "must be a list (got %s)", describe(n))
		return
	}
	for i, raw := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		d.at(ip, raw)
		item := d.resolve(raw)
		if item != nil && isNull(item) {
			d.fail(ip, raw, "empty entry")
		}
		each(ip, item)
	}
}

// secret reads key inline (a literal or exactly "${VAR}") or from the file
// named by key_file. Messages name the key, the variable or the file, never
// the value.
func (d *decoder) secret(o *object, key string, dst *Secret) {
	inline, path := d.get(o, key)
	file, filePath := d.get(o, key+"_file")
	if inline != nil || file != nil {
		// Any problem with the secret is reported here: "required" would repeat it.
		defer func(n int) {
			if len(d.probs) > n {
				d.meta.suppress = append(d.meta.suppress, path)
			}
		}(len(d.probs))
	}
	switch {
	case inline != nil && file != nil:
		d.fail(path, inline, "give %s or %s_file, not both", key, key)
	case inline != nil:
		if inline.Kind != yaml.ScalarNode {
			d.fail(path, inline, "must be a string (got %s)", describeKind(inline))
			return
		}
		v := inline.Value
		if name, ok := envReference(v); ok {
			val, set := "", false
			if d.opt.LookupEnv != nil {
				val, set = d.opt.LookupEnv(name)
			}
			if !set {
				d.missing(path, inline, path, "environment variable %s is not set", name)
				return
			}
			if val == "" {
				d.warn(path, "environment variable %s is empty", name)
			}
			v = val
			if hasControl(v) {
				d.fail(path, inline, "environment variable %s holds a line break or another control character", name)
				return
			}
		} else if strings.HasPrefix(v, "${") {
			d.fail(path, inline, "to read an environment variable, write exactly ${NAME} (letters, digits and _)")
			return
		} else if hasControl(v) {
			d.fail(path, inline, "must not hold a line break or another control character")
			return
		}
		*dst = Secret(v)
	case file != nil:
		if file.Kind != yaml.ScalarNode || file.Value == "" {
			d.fail(filePath, file, "must be a file path (got %s)", describe(file))
			return
		}
		b, err := readSecretFile(file.Value)
		if err != nil {
			d.missing(filePath, file, path, "cannot read %q: %v", file.Value, err)
			return
		}
		if len(b) == 0 {
			d.warn(filePath, "file %q is empty", file.Value)
		}
		if hasControl(string(b)) {
			d.fail(filePath, file, "file %q holds a line break or another control character (beyond one trailing newline)", file.Value)
			return
		}
		*dst = Secret(b)
	}
}

// missing reports a secret that cannot be resolved: a problem, or under
// MissingSecretsOK a warning, the secret staying empty.
func (d *decoder) missing(path string, n *yaml.Node, secretPath, format string, args ...any) {
	d.meta.suppress = append(d.meta.suppress, secretPath)
	if d.opt.MissingSecretsOK {
		d.warn(path, format+"; left empty", args...)
		return
	}
	d.fail(path, n, format, args...)
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
	return trimNewline(b), nil
}

// pathErr drops the file name from an *fs.PathError: messages name it already.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (d *decoder) config(root *yaml.Node) *Config {
	c := &Config{Store: "sqlite:syndicate.db", Listen: "127.0.0.1:8080", Timezone: "UTC",
		Dashboard: Dashboard{SessionLifetime: Duration(12 * time.Hour)}}
	root = d.resolve(root)
	if root == nil || isNull(root) {
		return c
	}
	if root.Kind != yaml.MappingNode {
		d.fail("", root, "the configuration must be a mapping of keys such as feeds: and channels: (got %s)", describe(root))
		d.stop = true
		return c
	}
	o := d.object("", root)
	d.str(o, "store", &c.Store)
	d.str(o, "listen", &c.Listen)
	d.baseURL(o, "public_url", &c.PublicURL)
	d.str(o, "timezone", &c.Timezone)
	d.secret(o, "admin_token", &c.AdminToken)
	d.secret(o, "secret", &c.Secret)
	for _, s := range []struct {
		key   string
		value Secret
	}{{"admin_token", c.AdminToken}, {"secret", c.Secret}} {
		if n := len(s.value.Value()); n > 0 && n < 16 {
			d.warn(s.key, "shorter than 16 characters, so easy to guess")
		}
	}
	d.str(o, "user_agent", &c.UserAgent)
	d.bool(o, "allow_private_networks", &c.AllowPrivateNetworks)
	d.bool(o, "demo", &c.Demo)
	d.int(o, "max_concurrent_polls", &c.MaxConcurrentPolls)
	c.Subscribe = d.subscribe(o)
	if do := d.sub(o, "dashboard"); do != nil {
		d.duration(do, "session_lifetime", &c.Dashboard.SessionLifetime)
		d.unknownKeys(do, nil)
	}
	d.list(o, "feeds", func(path string, n *yaml.Node) {
		c.Feeds = append(c.Feeds, d.feed(path, n))
	})
	d.list(o, "channels", func(path string, n *yaml.Node) {
		c.Channels = append(c.Channels, d.channel(path, n))
	})
	for _, k := range o.keys {
		if strings.HasPrefix(k.name, "x-") {
			o.asked = append(o.asked, k.name) // a place for YAML anchors
		}
	}
	d.unknownKeys(o, nil)
	return c
}

func (d *decoder) feed(path string, n *yaml.Node) Feed {
	f := Feed{
		Schedule:   "*/10 * * * *",
		FloodLimit: 10,
		Timeout:    Duration(30 * time.Second),
		MaxBytes:   10 << 20,
		MaxItems:   500,
	}
	o := d.object(path, n)
	if o == nil {
		return f
	}
	d.str(o, "id", &f.ID)
	d.str(o, "url", &f.URL)
	d.str(o, "language", &f.Language)
	d.str(o, "schedule", &f.Schedule)
	d.int(o, "backfill", &f.Backfill)
	d.int(o, "flood_limit", &f.FloodLimit)
	d.strList(o, "to", &f.To)
	if fo := d.sub(o, "filter"); fo != nil {
		d.strList(fo, "include_categories", &f.Filter.IncludeCategories)
		d.strList(fo, "exclude_categories", &f.Filter.ExcludeCategories)
		d.str(fo, "match", &f.Filter.Match)
		d.unknownKeys(fo, nil)
	}
	d.duration(o, "timeout", &f.Timeout)
	d.int64(o, "max_bytes", &f.MaxBytes)
	d.int(o, "max_items", &f.MaxItems)
	d.bool(o, "review", &f.Review)
	d.unknownKeys(o, nil)
	return f
}

// channelKeys lists the keys only a channel of that type has.
func channelKeys(typ string) []string {
	switch typ {
	case TypeMastodon:
		return []string{"server", "access_token", "access_token_file", "visibility", "max_characters", "max_hashtags",
			"min_summary", "max_summary", "hashtags", "content_warnings", "image", "max_image_bytes", "media_timeout", "rate_limits"}
	case TypeTelegram:
		return []string{"api_url", "bot_token", "bot_token_file", "chat", "silent", "photo", "pacing", "message_thread_id",
			"mode", "button", "protect_content", "max_hashtags", "hashtags"}
	case TypeEmail:
		return []string{"list", "schedule", "from", "subject", "smtp", "language", "dkim"}
	}
	return nil
}

func channelTypes() []string { return []string{TypeMastodon, TypeTelegram, TypeEmail} }

func (d *decoder) channel(path string, n *yaml.Node) Channel {
	ch := Channel{
		OnUpdate: OnUpdateIgnore,
		Timeout:  Duration(30 * time.Second),
		Retry: Retry{
			MaxAttempts: 10,
			MinBackoff:  Duration(10 * time.Second),
			MaxBackoff:  Duration(time.Hour),
		},
	}
	o := d.object(path, n)
	if o == nil {
		return ch
	}
	d.str(o, "id", &ch.ID)
	d.str(o, "type", &ch.Type)
	d.str(o, "template", &ch.Template)
	d.str(o, "on_update", &ch.OnUpdate)
	d.duration(o, "timeout", &ch.Timeout)
	d.bool(o, "review", &ch.Review)
	if ro := d.sub(o, "retry"); ro != nil {
		d.int(ro, "max_attempts", &ch.Retry.MaxAttempts)
		d.duration(ro, "min_backoff", &ch.Retry.MinBackoff)
		d.duration(ro, "max_backoff", &ch.Retry.MaxBackoff)
		d.unknownKeys(ro, nil)
	}
	switch ch.Type {
	case TypeMastodon:
		ch.Mastodon = d.mastodon(o)
	case TypeTelegram:
		ch.Telegram = d.telegram(o)
	case TypeEmail:
		ch.Email = d.email(o)
	default:
		// Without a valid type, keys of any type are let through: the type
		// problem is the one to fix first.
		for _, t := range channelTypes() {
			o.asked = append(o.asked, channelKeys(t)...)
		}
	}
	d.unknownKeys(o, func(key string) string {
		for _, t := range channelTypes() {
			if t != ch.Type && slices.Contains(channelKeys(t), key) {
				article := "a"
				if ch.Type == TypeEmail {
					article = "an"
				}
				return fmt.Sprintf("not a key of %s %s channel", article, ch.Type)
			}
		}
		return ""
	})
	return ch
}

func (d *decoder) mastodon(o *object) *Mastodon {
	m := &Mastodon{Visibility: "public", MaxHashtags: 4, Image: true, MaxImageBytes: 10 << 20, MediaTimeout: Duration(time.Minute)}
	m.RateLimits.RequestsPer5m, m.RateLimits.MediaPer30m, m.RateLimits.StatusesPer3h = 300, 30, 300
	d.baseURL(o, "server", &m.Server)
	d.secret(o, "access_token", &m.AccessToken)
	d.str(o, "visibility", &m.Visibility)
	d.int(o, "max_characters", &m.MaxCharacters)
	d.int(o, "max_hashtags", &m.MaxHashtags)
	d.int(o, "min_summary", &m.MinSummary)
	d.int(o, "max_summary", &m.MaxSummary)
	d.strMap(o, "hashtags", &m.Hashtags, nil)
	d.strMap(o, "content_warnings", &m.ContentWarnings, nil)
	d.bool(o, "image", &m.Image)
	d.int64(o, "max_image_bytes", &m.MaxImageBytes)
	d.duration(o, "media_timeout", &m.MediaTimeout)
	if ro := d.sub(o, "rate_limits"); ro != nil {
		d.int(ro, "requests_per_5m", &m.RateLimits.RequestsPer5m)
		d.int(ro, "media_per_30m", &m.RateLimits.MediaPer30m)
		d.int(ro, "statuses_per_3h", &m.RateLimits.StatusesPer3h)
		d.unknownKeys(ro, nil)
	}
	return m
}

func (d *decoder) telegram(o *object) *Telegram {
	t := &Telegram{
		APIURL:      "https://api.telegram.org",
		Mode:        "photo",
		Photo:       "auto",
		MaxHashtags: 4,
		Pacing:      Pacing{PerMinute: 20, MinInterval: Duration(time.Second)},
	}
	d.baseURL(o, "api_url", &t.APIURL)
	d.secret(o, "bot_token", &t.BotToken)
	d.str(o, "chat", &t.Chat)
	d.bool(o, "silent", &t.Silent)
	d.bool(o, "protect_content", &t.ProtectContent)
	d.str(o, "mode", &t.Mode)
	d.str(o, "photo", &t.Photo)
	d.str(o, "button", &t.Button)
	d.int(o, "max_hashtags", &t.MaxHashtags)
	d.strMap(o, "hashtags", &t.Hashtags, nil)
	if po := d.sub(o, "pacing"); po != nil {
		d.int(po, "per_minute", &t.Pacing.PerMinute)
		d.duration(po, "min_interval", &t.Pacing.MinInterval)
		d.unknownKeys(po, nil)
	}
	d.int64(o, "message_thread_id", &t.MessageThreadID)
	return t
}

func (d *decoder) email(o *object) *Email {
	e := &Email{Subject: "{{.Title}} — digest", SMTP: SMTP{Connections: 4}}
	d.str(o, "list", &e.List)
	d.str(o, "schedule", &e.Schedule)
	d.str(o, "from", &e.From)
	d.str(o, "subject", &e.Subject)
	d.str(o, "language", &e.Language)
	if do := d.sub(o, "dkim"); do != nil {
		e.DKIM = &DKIM{}
		d.str(do, "domain", &e.DKIM.Domain)
		d.str(do, "selector", &e.DKIM.Selector)
		d.str(do, "key_file", &e.DKIM.KeyFile)
		d.unknownKeys(do, nil)
	}
	if so := d.sub(o, "smtp"); so != nil {
		d.str(so, "host", &e.SMTP.Host)
		d.int(so, "port", &e.SMTP.Port)
		d.str(so, "tls", &e.SMTP.TLS)
		d.str(so, "username", &e.SMTP.Username)
		d.secret(so, "password", &e.SMTP.Password)
		d.int(so, "connections", &e.SMTP.Connections)
		d.int(so, "rate", &e.SMTP.Rate)
		d.unknownKeys(so, nil)
		if e.SMTP.TLS == "none" && e.SMTP.Password != "" && !isLoopback(e.SMTP.Host) {
			d.warn(so.path+".tls", "none: the password goes to %s unencrypted", e.SMTP.Host)
		}
	}
	return e
}

func isLoopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}
