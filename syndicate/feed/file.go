package feed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// IsFileURL reports whether a feed URL names a local file (file:///…):
// a static site generator that writes its feed to disk on the same host.
func IsFileURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "file"
}

// readFile reads a feed from a local file with the same change detection
// as a conditional GET: the file's modification time and size stand for
// Last-Modified (unchanged: not read at all), the hash of its content for
// the ETag (a file rewritten with the same bytes is not modified either).
// ctx is the caller's context, fetchCtx the read's (bounded by
// lim.Timeout).
func (r *Reader) readFile(ctx, fetchCtx context.Context, src syndicate.FeedSource, v syndicate.Validators, lim Limits) (syndicate.FetchResult, error) {
	u, err := url.Parse(src.URL)
	if err != nil || u.Path == "" || (u.Host != "" && u.Host != "localhost") {
		return syndicate.FetchResult{}, fmt.Errorf("read %s: not a local file URL (file:///absolute/path)", src.URL)
	}
	path := filepath.FromSlash(u.Path)
	f, err := os.Open(path)
	if err != nil {
		return syndicate.FetchResult{}, fileError(path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return syndicate.FetchResult{}, fileError(path, err)
	}
	if !info.Mode().IsRegular() {
		return syndicate.FetchResult{}, fmt.Errorf("read feed file %s: not a regular file", path)
	}
	if info.Size() > lim.MaxBytes {
		return syndicate.FetchResult{}, fmt.Errorf("read feed file %s: %w", path, &TooLargeError{Limit: lim.MaxBytes})
	}
	stamp := fileStamp(info)
	if v.LastModified == stamp && v.ETag != "" {
		return syndicate.FetchResult{NotModified: true, Validators: v}, nil
	}
	body, err := readAll(f, info.Size(), lim.MaxBytes)
	if err != nil {
		return syndicate.FetchResult{}, fileError(path, err)
	}
	if int64(len(body)) > lim.MaxBytes {
		return syndicate.FetchResult{}, fmt.Errorf("read feed file %s: %w", path, &TooLargeError{Limit: lim.MaxBytes})
	}
	sum := sha256.Sum256(body)
	validators := syndicate.Validators{ETag: `"sha256-` + hex.EncodeToString(sum[:]) + `"`, LastModified: stamp}
	if validators.ETag == v.ETag {
		return syndicate.FetchResult{NotModified: true, Validators: validators}, nil
	}
	n, doc, err := r.parse(fetchCtx, body, contentTypeOf(path), src.URL, src, lim)
	if err != nil {
		return syndicate.FetchResult{}, parseError(ctx, "read feed file "+path, lim.Timeout, err)
	}
	return syndicate.FetchResult{
		Validators: validators,
		Articles:   n.Articles,
		Truncated:  doc.Truncated,
		Warnings:   n.Warnings,
	}, nil
}

// fileStamp is a file's modification time and size: what changes when a
// generator rewrites it.
func fileStamp(info fs.FileInfo) string {
	return info.ModTime().UTC().Format(time.RFC3339Nano) + " " + strconv.FormatInt(info.Size(), 10)
}

func fileError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is said once, below
	}
	return fmt.Errorf("read feed file %s: %w", path, err)
}

// contentTypeOf gives Parse the hint a web server would send: a JSON Feed
// is told from XML by its extension.
func contentTypeOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return "application/feed+json"
	case ".xml", ".rss", ".atom":
		return "application/xml"
	}
	return ""
}
