package config

import (
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// localFeeds turns each feed given as a file path (or a relative file:
// URL) into an absolute file:///… URL, relative paths taken from the
// directory of the configuration file, so a feed means the same file
// whichever directory the daemon starts in. A file that is not there yet
// is a warning: the site generator may not have written it.
func (d *decoder) localFeeds(cfg *Config) {
	for i := range cfg.Feeds {
		f := &cfg.Feeds[i]
		path, ok := localPath(f.URL)
		if !ok {
			continue
		}
		if !filepath.IsAbs(path) {
			base, err := filepath.Abs(d.opt.BaseDir)
			if err != nil {
				base = d.opt.BaseDir
			}
			path = filepath.Join(base, path)
		}
		path = filepath.Clean(path)
		f.URL = (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
		key := "feeds[" + strconv.Itoa(i) + "].url"
		if info, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			d.Warn(key, "no file at %s yet (a local feed file; a web feed is written https://…)", path)
		} else if err == nil && !info.Mode().IsRegular() {
			d.Warn(key, "%s is not a regular file", path)
		}
	}
}

// localPath returns the file path a feed URL names: a file: URL, or a
// string with no scheme at all. Anything else (http, https, a typo such as
// htps:) is left to validation.
func localPath(raw string) (string, bool) {
	if raw == "" || strings.Contains(raw, "${") { // an unexpanded variable is a mistake, not a path
		return "", false
	}
	if after, ok := strings.CutPrefix(raw, "file:"); ok {
		u, err := url.Parse(raw)
		if err != nil || (u.Host != "" && u.Host != "localhost") {
			return "", false
		}
		if u.Path != "" {
			return filepath.FromSlash(u.Path), true
		}
		return filepath.FromSlash(u.Opaque), u.Opaque != "" || after != ""
	}
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		return "", false
	}
	if strings.Contains(raw, "://") {
		return "", false
	}
	return raw, true
}
