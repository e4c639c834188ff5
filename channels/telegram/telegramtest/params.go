package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const maxBody = 20 << 20

// request is a Bot API call's parameters, from the query string and a
// form-urlencoded, multipart or JSON body, as Telegram accepts them.
type request struct {
	params map[string]string
	files  map[string][]byte // multipart file parts by field name
	// fetched is the photo given by URL, as fetched; fetchErr why it
	// could not be.
	fetched  []byte
	fetchErr *apiError
}

func readRequest(r *http.Request) (*request, *apiError) {
	req := &request{params: map[string]string{}, files: map[string][]byte{}}
	for k, v := range r.URL.Query() {
		req.params[k] = v[0]
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxBody)
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, badRequest("can't parse request body")
		}
		for k, v := range r.PostForm {
			req.params[k] = v[0]
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxBody); err != nil {
			return nil, badRequest("can't parse multipart/form-data request body")
		}
		for k, v := range r.MultipartForm.Value {
			req.params[k] = v[0]
		}
		for k, fhs := range r.MultipartForm.File {
			f, err := fhs[0].Open()
			if err != nil {
				return nil, badRequest("can't read file " + k)
			}
			data, err := io.ReadAll(f)
			_ = f.Close()
			if err != nil {
				return nil, badRequest("can't read file " + k)
			}
			req.files[k] = data
		}
	case "application/json":
		var body map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return nil, badRequest("can't parse JSON object")
		}
		for k, raw := range body {
			raw = bytes.TrimSpace(raw)
			switch {
			case string(raw) == "null":
			case len(raw) > 0 && raw[0] == '"':
				var s string
				if err := json.Unmarshal(raw, &s); err != nil {
					return nil, badRequest("can't parse JSON object")
				}
				req.params[k] = s
			default:
				req.params[k] = string(raw)
			}
		}
	}
	for k, v := range req.params {
		if !utf8.ValidString(v) {
			return nil, badRequest("strings must be encoded in UTF-8 (parameter " + k + ")")
		}
	}
	return req, nil
}

// checkKnown refuses a parameter the method does not take. Telegram ignores
// those; refusing them catches a misspelt option in a test.
func (r *request) checkKnown(m method) *apiError {
	for k := range r.params {
		if !m.takes(k) {
			return badRequest("telegramtest: unknown parameter " + strconv.Quote(k) + " for method " + m.name)
		}
	}
	for k := range r.files {
		if !m.takes(k) && !m.takesAttachments {
			return badRequest("telegramtest: unknown file parameter " + strconv.Quote(k) + " for method " + m.name)
		}
	}
	return nil
}

func (r *request) int64Param(name string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(r.params[name]), 10, 64)
	return n, err == nil
}

// boolParam reads a Boolean the way the Bot API does: absent is false.
func (r *request) boolParam(name string) (bool, *apiError) {
	v, ok := r.params[name]
	if !ok || v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("can't parse " + name + " as Boolean")
	}
	return b, nil
}

// options returns every parameter but the chat, the text and the parse mode.
func (r *request) options(except ...string) map[string]string {
	out := map[string]string{}
	for k, v := range r.params {
		switch k {
		case "chat_id", "parse_mode":
			continue
		}
		skip := false
		for _, e := range except {
			skip = skip || k == e
		}
		if !skip {
			out[k] = v
		}
	}
	return out
}

// maxPhotoURLBytes is Telegram's limit for a photo given by URL.
const maxPhotoURLBytes = 5 << 20

// fetchPhoto fetches the photo a sendPhoto gives by URL, and checks it is
// an image, as Telegram does.
func (r *request) fetchPhoto(ctx context.Context, client *http.Client) {
	v := r.params["photo"]
	if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
		return
	}
	failed := badRequest("failed to get HTTP URL content")
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v, nil)
	if err != nil {
		r.fetchErr = badRequest("wrong file identifier/HTTP URL specified")
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		r.fetchErr = failed
		return
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxPhotoURLBytes+1))
	switch {
	case err != nil || resp.StatusCode != http.StatusOK || len(data) > maxPhotoURLBytes:
		r.fetchErr = failed
	case !strings.HasPrefix(http.DetectContentType(data), "image/"):
		r.fetchErr = badRequest("wrong type of the web page content")
	default:
		r.fetched = data
	}
}

// loopbackClient is how the server fetches photos: it reaches loopback
// addresses only, so a test never goes out to the network, and a host it
// cannot reach is "failed to get HTTP URL content".
func loopbackClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ip, err := netip.ParseAddr(host)
			if host != "localhost" && (err != nil || !ip.IsLoopback()) {
				return nil, fmt.Errorf("telegramtest: %s is not a loopback address", host)
			}
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
}
